//! memcached text + meta protocol request parser (bytes in, typed requests out).
//!
//! Behaviour mirrors memcached 1.6.18 (`proto_text.c`) as observed on the wire;
//! deliberate differences are listed in the module docs of `super`.

use bytes::{Buf, Bytes, BytesMut};

use super::base64;

/// Longest key accepted (`KEY_MAX_LENGTH`).
pub const KEY_MAX_LENGTH: usize = 250;
/// A command line (without its `\n`) may be at most this long, unless it is a multiget.
pub const LINE_MAX: usize = 2048;
/// Longest meta opaque token, counted with its leading `O` (`MFLAG_MAX_OPAQUE_LENGTH`).
pub const OPAQUE_MAX: usize = 32;
/// memcached's tokenizer yields at most 23 tokens plus a terminal one (`MAX_TOKENS` 24).
const MC_MAX_TOKENS: usize = 24;
/// Meta commands fail when the token count (command, key, flags and terminal token) exceeds this.
const MFLAG_MAX_OPT_LENGTH: usize = 20;

/// Limits the parser enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McLimits {
    /// Largest value accepted by storage commands (`-I`, default 1 MiB).
    pub item_size_max: usize,
    /// Longest `get`/`gets`/`gat`/`gats` line (without `\n`); longer lines close the connection.
    pub multiget_line_max: usize,
}

impl Default for McLimits {
    fn default() -> Self {
        McLimits {
            item_size_max: 1024 * 1024,
            multiget_line_max: 1024 * 1024,
        }
    }
}

/// Storage semantics of `set`/`add`/`replace`/`append`/`prepend`/`cas` and of `ms M<mode>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    Set,
    Add,
    Replace,
    Append,
    Prepend,
    Cas,
}

/// `ma` mode (`MI`/`M+` increment, the default; `MD`/`M-` decrement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithMode {
    Incr,
    Decr,
}

/// One meta flag as sent: the flag byte and the rest of its token, if any (`T30` → `T`, `30`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaFlag {
    pub flag: u8,
    pub token: Option<Bytes>,
}

/// Meta flags of one request: the list in request order (responses echo in that order) plus
/// the numeric tokens already validated and decoded the way memcached does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaFlags {
    /// Every flag, in request order.
    pub list: Vec<MetaFlag>,
    /// `b`: the key was base64 (the request's `key` is already decoded).
    pub base64_key: bool,
    /// `q`: quiet mode.
    pub quiet: bool,
    /// `v`: return the value.
    pub value: bool,
    /// `u`: do not bump the item in the LRU.
    pub no_bump: bool,
    /// `I`: invalidate (ms: accept a lower CAS and mark stale; md: mark stale instead of deleting).
    pub invalidate: bool,
    /// `x` (md): keep the item with an empty value.
    pub remove_value: bool,
    /// `T<ttl>`: new TTL.
    pub ttl: Option<i64>,
    /// `N<ttl>`: vivify on miss with this TTL.
    pub vivify_ttl: Option<i64>,
    /// `R<ttl>`: win a recache when the remaining TTL is below this.
    pub recache_ttl: Option<i64>,
    /// `C<cas>`: compare CAS.
    pub compare_cas: Option<u64>,
    /// `E<cas>`: explicit new CAS value.
    pub new_cas: Option<u64>,
    /// `F<flags>`: client flags (ms).
    pub client_flags: Option<u32>,
    /// `J<n>`: initial value for an `ma` auto-vivify.
    pub initial: Option<u64>,
    /// `D<n>`: `ma` delta.
    pub delta: Option<u64>,
    /// `M<c>`: the raw mode byte (validated per command; see `MetaSet::mode`/`MetaArithmetic::mode`).
    pub mode: Option<u8>,
}

impl MetaFlags {
    /// Whether flag `f` was sent.
    pub fn has(&self, f: u8) -> bool {
        self.list.iter().any(|m| m.flag == f)
    }

    /// The token of flag `f`, if sent with one.
    pub fn token(&self, f: u8) -> Option<&Bytes> {
        self.list
            .iter()
            .find(|m| m.flag == f)
            .and_then(|m| m.token.as_ref())
    }
}

/// A complete, typed request. Keys and data are zero-copy slices of the input
/// (base64 keys are decoded into a fresh buffer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum McRequest {
    /// `get`/`gets` (and the legacy `bget`). `cas` is true for `gets`.
    Get {
        keys: Vec<Bytes>,
        cas: bool,
    },
    /// `gat`/`gats <exptime> <key>*`. memcached accepts an empty key list (replies `END`).
    Gat {
        exptime: i64,
        keys: Vec<Bytes>,
        cas: bool,
    },
    /// `set`/`add`/`replace`/`append`/`prepend`/`cas`. append/prepend carry the parsed
    /// (but, in memcached, ignored) flags and exptime.
    Store {
        mode: StoreMode,
        key: Bytes,
        flags: u32,
        exptime: i64,
        data: Bytes,
        cas_unique: Option<u64>,
        noreply: bool,
    },
    Touch {
        key: Bytes,
        exptime: i64,
        noreply: bool,
    },
    /// `delete <key> [0] [noreply]`.
    Delete {
        key: Bytes,
        noreply: bool,
    },
    Incr {
        key: Bytes,
        delta: u64,
        noreply: bool,
    },
    Decr {
        key: Bytes,
        delta: u64,
        noreply: bool,
    },
    /// `flush_all [delay] [noreply]`. memcached treats a delay <= 0 as "now".
    FlushAll {
        delay: Option<i64>,
        noreply: bool,
    },
    /// `stats [args…]`.
    Stats {
        args: Vec<Bytes>,
    },
    Version,
    Verbosity {
        level: u32,
        noreply: bool,
    },
    /// Close the connection without a reply.
    Quit,
    MetaGet {
        key: Bytes,
        flags: MetaFlags,
    },
    MetaSet {
        key: Bytes,
        data: Bytes,
        /// From `M` (`E` add, `A` append, `P` prepend, `R` replace, `S`/absent set). memcached
        /// upgrades set/replace to CAS semantics when `C` is present: see `flags.compare_cas`.
        mode: StoreMode,
        flags: MetaFlags,
    },
    MetaDelete {
        key: Bytes,
        flags: MetaFlags,
    },
    MetaArithmetic {
        key: Bytes,
        mode: ArithMode,
        flags: MetaFlags,
    },
    MetaNoop,
    /// `me <key> [b]`.
    MetaDebug {
        key: Bytes,
        base64: bool,
    },
}

/// What went wrong; each kind has one exact memcached reply line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McErrorKind {
    /// `ERROR`: unknown command name or wrong number of tokens.
    UnknownCommand,
    /// `CLIENT_ERROR bad command line format`.
    BadCommandLineFormat,
    /// `delete` with a bad third/fourth token (memcached's "Usage" text).
    DeleteUsage,
    /// Data block not followed by `\r\n`.
    BadDataChunk,
    /// Value larger than `item_size_max`; the data block is swallowed.
    ObjectTooLarge,
    InvalidExptime,
    /// incr/decr delta.
    InvalidDeltaArgument,
    InvalidFlag,
    DuplicateFlag,
    /// md/ma report every flag problem with this one text.
    InvalidOrDuplicateFlag,
    /// Bad numeric token on `N`/`T`/`R`/`C`/`E`.
    BadToken,
    OpaqueTooLong,
    IncorrectMTokenLength,
    InvalidMsMode,
    InvalidMaMode,
    ErrorDecodingKey,
    InvalidInitialValue,
    InvalidDeltaValue,
    /// mg with too many flags.
    MgOptionsTooLong,
    /// ms/md/ma with too many flags.
    OptionsTooLong,
    /// No `\n` within the line limit. Closes the connection (memcached closes silently).
    LineTooLong,
    /// First byte 0x80: binary protocol. Closes the connection.
    BinaryProtocol,
    /// Unknown command whose last token starts with `HTTP/`: memcached closes silently.
    HttpRequest,
}

impl McErrorKind {
    /// The reply line without its CRLF (empty for [`McErrorKind::HttpRequest`]).
    pub fn line(self) -> &'static str {
        use McErrorKind::*;
        match self {
            UnknownCommand => "ERROR",
            BadCommandLineFormat => "CLIENT_ERROR bad command line format",
            DeleteUsage => "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]",
            BadDataChunk => "CLIENT_ERROR bad data chunk",
            ObjectTooLarge => "SERVER_ERROR object too large for cache",
            InvalidExptime => "CLIENT_ERROR invalid exptime argument",
            InvalidDeltaArgument => "CLIENT_ERROR invalid numeric delta argument",
            InvalidFlag => "CLIENT_ERROR invalid flag",
            DuplicateFlag => "CLIENT_ERROR duplicate flag",
            InvalidOrDuplicateFlag => "CLIENT_ERROR invalid or duplicate flag",
            BadToken => "CLIENT_ERROR bad token in command line format",
            OpaqueTooLong => "CLIENT_ERROR opaque token too long",
            IncorrectMTokenLength => "CLIENT_ERROR incorrect length for M token",
            InvalidMsMode => "CLIENT_ERROR invalid mode for ms M token",
            InvalidMaMode => "CLIENT_ERROR invalid mode for ma M token",
            ErrorDecodingKey => "CLIENT_ERROR error decoding key",
            InvalidInitialValue => "CLIENT_ERROR invalid numeric initial value",
            InvalidDeltaValue => "CLIENT_ERROR invalid numeric delta value",
            MgOptionsTooLong => "CLIENT_ERROR options flags are too long",
            OptionsTooLong => "CLIENT_ERROR options flags too long",
            LineTooLong => "CLIENT_ERROR line too long",
            BinaryProtocol => "CLIENT_ERROR binary protocol not supported",
            HttpRequest => "",
        }
    }

    /// The reply with its CRLF (empty for [`McErrorKind::HttpRequest`]).
    pub fn reply_bytes(self) -> &'static [u8] {
        use McErrorKind::*;
        match self {
            UnknownCommand => b"ERROR\r\n",
            BadCommandLineFormat => b"CLIENT_ERROR bad command line format\r\n",
            DeleteUsage => {
                b"CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n"
            }
            BadDataChunk => b"CLIENT_ERROR bad data chunk\r\n",
            ObjectTooLarge => b"SERVER_ERROR object too large for cache\r\n",
            InvalidExptime => b"CLIENT_ERROR invalid exptime argument\r\n",
            InvalidDeltaArgument => b"CLIENT_ERROR invalid numeric delta argument\r\n",
            InvalidFlag => b"CLIENT_ERROR invalid flag\r\n",
            DuplicateFlag => b"CLIENT_ERROR duplicate flag\r\n",
            InvalidOrDuplicateFlag => b"CLIENT_ERROR invalid or duplicate flag\r\n",
            BadToken => b"CLIENT_ERROR bad token in command line format\r\n",
            OpaqueTooLong => b"CLIENT_ERROR opaque token too long\r\n",
            IncorrectMTokenLength => b"CLIENT_ERROR incorrect length for M token\r\n",
            InvalidMsMode => b"CLIENT_ERROR invalid mode for ms M token\r\n",
            InvalidMaMode => b"CLIENT_ERROR invalid mode for ma M token\r\n",
            ErrorDecodingKey => b"CLIENT_ERROR error decoding key\r\n",
            InvalidInitialValue => b"CLIENT_ERROR invalid numeric initial value\r\n",
            InvalidDeltaValue => b"CLIENT_ERROR invalid numeric delta value\r\n",
            MgOptionsTooLong => b"CLIENT_ERROR options flags are too long\r\n",
            OptionsTooLong => b"CLIENT_ERROR options flags too long\r\n",
            LineTooLong => b"CLIENT_ERROR line too long\r\n",
            BinaryProtocol => b"CLIENT_ERROR binary protocol not supported\r\n",
            HttpRequest => b"",
        }
    }

    /// Whether the connection must be closed after (optionally) sending the reply.
    pub fn closes(self) -> bool {
        matches!(
            self,
            McErrorKind::LineTooLong | McErrorKind::BinaryProtocol | McErrorKind::HttpRequest
        )
    }
}

/// A request that could not be parsed. The parser has already consumed the offending input
/// (and arranged to swallow a rejected data block), so parsing can continue unless
/// [`McError::close`] is true.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McError {
    pub kind: McErrorKind,
    /// The classic command ended in `noreply`. memcached 1.6.18 then sends *no* reply even for
    /// errors (out_string honours noreply); only `ERROR` for a wrong token count, which is
    /// detected before noreply is looked at, is still sent. Never set for meta commands.
    pub noreply: bool,
}

impl McError {
    fn new(kind: McErrorKind) -> Self {
        McError {
            kind,
            noreply: false,
        }
    }

    fn quiet(kind: McErrorKind, noreply: bool) -> Self {
        McError { kind, noreply }
    }

    /// The reply line without CRLF, regardless of `noreply`.
    pub fn line(&self) -> &'static str {
        self.kind.line()
    }

    /// The bytes to send, as memcached would: `None` when `noreply` suppresses the reply or
    /// when memcached closes silently.
    pub fn reply(&self) -> Option<&'static [u8]> {
        if self.noreply || self.kind == McErrorKind::HttpRequest {
            None
        } else {
            Some(self.kind.reply_bytes())
        }
    }

    /// Whether the connection must be closed after sending [`McError::reply`].
    pub fn close(&self) -> bool {
        self.kind.closes()
    }
}

impl std::fmt::Display for McError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind.line())
    }
}

impl std::error::Error for McError {}

#[derive(Debug)]
enum Pending {
    Store {
        mode: StoreMode,
        key: Bytes,
        flags: u32,
        exptime: i64,
        cas_unique: Option<u64>,
        noreply: bool,
    },
    MetaSet {
        key: Bytes,
        mode: StoreMode,
        flags: MetaFlags,
    },
}

#[derive(Debug)]
enum State {
    /// Waiting for a command line; `scanned` bytes at the front are known to hold no `\n`.
    Line { scanned: usize },
    /// Header parsed; waiting for `len` data bytes plus CRLF.
    Data { pending: Box<Pending>, len: usize },
    /// Discarding a rejected data block.
    Swallow { remaining: usize },
}

/// Resumable request parser for one connection.
#[derive(Debug)]
pub struct McParser {
    state: State,
    /// The key of a `set` just refused as too large: memcached unlinks its old
    /// value so no stale data persists (`take_refused_set_key`).
    refused_set_key: Option<Bytes>,
}

impl Default for McParser {
    fn default() -> Self {
        Self::new()
    }
}

impl McParser {
    /// After an `ObjectTooLarge` error: the key whose old value must go, when
    /// the refused command was a `set` (memcached's "avoid stale data").
    pub fn take_refused_set_key(&mut self) -> Option<Bytes> {
        self.refused_set_key.take()
    }

    pub fn new() -> Self {
        McParser {
            refused_set_key: None,
            state: State::Line { scanned: 0 },
        }
    }

    /// True when no partial request is buffered in the parser's state (bytes still in the
    /// caller's buffer may of course hold one).
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Line { scanned: 0 })
    }

    /// Next complete request from the front of `buf`, consuming it. `Ok(None)` = need more bytes.
    ///
    /// Storage commands complete only once their data block (declared length + CRLF) has
    /// arrived; the data is taken by length, never scanned. While waiting for a long line or a
    /// large block the parser remembers its progress, so repeated calls do not rescan.
    /// After an error the offending input is consumed (a too-large data block is swallowed as
    /// it arrives) and parsing may continue, unless [`McError::close`] is true.
    pub fn parse(
        &mut self,
        buf: &mut BytesMut,
        limits: &McLimits,
    ) -> Result<Option<McRequest>, McError> {
        loop {
            match &mut self.state {
                State::Swallow { remaining } => {
                    let n = (*remaining).min(buf.len());
                    buf.advance(n);
                    *remaining -= n;
                    if *remaining > 0 {
                        return Ok(None);
                    }
                    self.state = State::Line { scanned: 0 };
                }
                State::Data { len, .. } => {
                    let len = *len;
                    if buf.len() < len + 2 {
                        return Ok(None);
                    }
                    let State::Data { pending, .. } =
                        std::mem::replace(&mut self.state, State::Line { scanned: 0 })
                    else {
                        return Ok(None);
                    };
                    let data = buf.split_to(len).freeze();
                    let ok = buf.starts_with(b"\r\n");
                    buf.advance(2);
                    return match *pending {
                        Pending::Store {
                            mode,
                            key,
                            flags,
                            exptime,
                            cas_unique,
                            noreply,
                        } => {
                            if !ok {
                                return Err(McError::quiet(McErrorKind::BadDataChunk, noreply));
                            }
                            Ok(Some(McRequest::Store {
                                mode,
                                key,
                                flags,
                                exptime,
                                data,
                                cas_unique,
                                noreply,
                            }))
                        }
                        Pending::MetaSet { key, mode, flags } => {
                            if !ok {
                                return Err(McError::new(McErrorKind::BadDataChunk));
                            }
                            Ok(Some(McRequest::MetaSet {
                                key,
                                data,
                                mode,
                                flags,
                            }))
                        }
                    };
                }
                State::Line { scanned } => {
                    let Some(&first) = buf.first() else {
                        return Ok(None);
                    };
                    if first == 0x80 {
                        return Err(McError::new(McErrorKind::BinaryProtocol));
                    }
                    let line_end = match find_line_end(buf, scanned, limits)? {
                        Some(i) => i,
                        None => return Ok(None),
                    };
                    let line = buf.split_to(line_end + 1).freeze();
                    self.state = State::Line { scanned: 0 };
                    // `None`: a storage header was accepted, go on with its data block
                    if let Some(r) = self.parse_line(line, limits)? {
                        return Ok(Some(r));
                    }
                }
            }
        }
    }

    fn parse_line(&mut self, line: Bytes, limits: &McLimits) -> Result<Option<McRequest>, McError> {
        // strip "\n" and one preceding "\r"
        let mut end = line.len().saturating_sub(1);
        if end > 0 && line.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        let content = line.slice(..end);
        let toks = tokenize(&content);
        let Some(cmd) = toks.first() else {
            return Err(McError::new(McErrorKind::UnknownCommand));
        };
        if cmd.len() < 2 {
            return Err(McError::new(McErrorKind::UnknownCommand));
        }
        let n = toks.len();
        let req = match cmd.as_ref() {
            b"mg" => parse_mg(&toks)?,
            b"ms" => return self.parse_ms(&toks, limits),
            b"md" => parse_md(&toks)?,
            b"ma" => parse_ma(&toks)?,
            b"mn" => McRequest::MetaNoop,
            b"me" => parse_me(&toks)?,
            b"get" | b"gets" | b"bget" | b"gat" | b"gats" => parse_get(&toks)?,
            b"set" | b"add" | b"replace" | b"append" | b"prepend" | b"cas" => {
                return self.parse_store(&toks, limits)
            }
            b"incr" | b"decr" => {
                want(n, 3, 4)?;
                let noreply = noreply_token(&toks);
                let key = key_arg(&toks, noreply)?;
                let delta = toks
                    .get(2)
                    .and_then(|t| parse_u64(t))
                    .ok_or(McError::quiet(McErrorKind::InvalidDeltaArgument, noreply))?;
                if cmd.as_ref() == b"incr" {
                    McRequest::Incr {
                        key,
                        delta,
                        noreply,
                    }
                } else {
                    McRequest::Decr {
                        key,
                        delta,
                        noreply,
                    }
                }
            }
            b"touch" => {
                want(n, 3, 4)?;
                let noreply = noreply_token(&toks);
                let key = key_arg(&toks, noreply)?;
                let exptime = toks
                    .get(2)
                    .and_then(|t| parse_i64(t))
                    .ok_or(McError::quiet(McErrorKind::InvalidExptime, noreply))?;
                McRequest::Touch {
                    key,
                    exptime,
                    noreply,
                }
            }
            b"delete" => {
                want(n, 2, 4)?;
                let mut noreply = false;
                if n > 2 {
                    let hold_is_zero = toks.get(2).is_some_and(|t| t.as_ref() == b"0");
                    noreply = noreply_token(&toks);
                    let valid = (n == 3 && (hold_is_zero || noreply))
                        || (n == 4 && hold_is_zero && noreply);
                    if !valid {
                        return Err(McError::quiet(McErrorKind::DeleteUsage, noreply));
                    }
                }
                let key = key_arg(&toks, noreply)?;
                McRequest::Delete { key, noreply }
            }
            b"flush_all" => {
                want(n, 1, 3)?;
                let noreply = n > 1 && noreply_token(&toks);
                let bare = if noreply { 2 } else { 1 };
                let delay = if n != bare {
                    Some(
                        toks.get(1)
                            .and_then(|t| parse_i64(t))
                            .ok_or(McError::quiet(McErrorKind::InvalidExptime, noreply))?,
                    )
                } else {
                    None
                };
                McRequest::FlushAll { delay, noreply }
            }
            b"verbosity" => {
                want(n, 2, 3)?;
                let noreply = noreply_token(&toks);
                let level = toks
                    .get(1)
                    .and_then(|t| parse_u32(t))
                    .ok_or(McError::quiet(McErrorKind::BadCommandLineFormat, noreply))?;
                McRequest::Verbosity { level, noreply }
            }
            b"version" => McRequest::Version,
            b"quit" => McRequest::Quit,
            b"stats" => McRequest::Stats {
                args: toks.get(1..).unwrap_or_default().to_vec(),
            },
            other => return Err(unknown_command(other, &toks)),
        };
        Ok(Some(req))
    }

    fn parse_store(
        &mut self,
        toks: &[Bytes],
        limits: &McLimits,
    ) -> Result<Option<McRequest>, McError> {
        let (mode, is_cas) = match toks.first().map(|t| t.as_ref()) {
            Some(b"set") => (StoreMode::Set, false),
            Some(b"add") => (StoreMode::Add, false),
            Some(b"replace") => (StoreMode::Replace, false),
            Some(b"append") => (StoreMode::Append, false),
            Some(b"prepend") => (StoreMode::Prepend, false),
            _ => (StoreMode::Cas, true),
        };
        let n = toks.len();
        if is_cas {
            want(n, 6, 7)?;
        } else {
            want(n, 5, 6)?;
        }
        let noreply = noreply_token(toks);
        let bad = McError::quiet(McErrorKind::BadCommandLineFormat, noreply);
        let key = key_arg(toks, noreply)?;
        let flags = toks.get(2).and_then(|t| parse_u32(t)).ok_or(bad)?;
        let exptime = toks.get(3).and_then(|t| parse_i64(t)).ok_or(bad)?;
        let vlen = toks.get(4).and_then(|t| parse_i64(t)).ok_or(bad)?;
        let cas_unique = if is_cas {
            Some(toks.get(5).and_then(|t| parse_u64(t)).ok_or(bad)?)
        } else {
            None
        };
        let len = data_len(vlen).ok_or(bad)?;
        if len > limits.item_size_max {
            self.state = State::Swallow { remaining: len + 2 };
            if mode == StoreMode::Set {
                self.refused_set_key = Some(key);
            }
            return Err(McError::quiet(McErrorKind::ObjectTooLarge, noreply));
        }
        self.state = State::Data {
            pending: Box::new(Pending::Store {
                mode,
                key,
                flags,
                exptime,
                cas_unique,
                noreply,
            }),
            len,
        };
        Ok(None)
    }

    fn parse_ms(
        &mut self,
        toks: &[Bytes],
        limits: &McLimits,
    ) -> Result<Option<McRequest>, McError> {
        let n = toks.len();
        let raw_key = toks
            .get(1)
            .ok_or(McError::new(McErrorKind::UnknownCommand))?;
        let bad = McError::new(McErrorKind::BadCommandLineFormat);
        if raw_key.len() > KEY_MAX_LENGTH || n == 2 {
            return Err(bad);
        }
        if mc_ntokens(n) > MFLAG_MAX_OPT_LENGTH {
            return Err(McError::new(McErrorKind::OptionsTooLong));
        }
        let len = toks
            .get(2)
            .and_then(|t| parse_i64(t))
            .and_then(data_len)
            .ok_or(bad)?;
        // From here on memcached swallows the data block after an error.
        let res = (|| {
            let (key, flags) =
                preparse(raw_key, toks.get(3..).unwrap_or_default()).map_err(McError::new)?;
            meta_key_ok(&key, &flags)?;
            let opaque_err = opaque_too_long(&flags);
            let mode = match flags.mode {
                None | Some(b'S') => StoreMode::Set,
                Some(b'E') => StoreMode::Add,
                Some(b'A') => StoreMode::Append,
                Some(b'P') => StoreMode::Prepend,
                Some(b'R') => StoreMode::Replace,
                Some(_) => return Err(McError::new(McErrorKind::InvalidMsMode)),
            };
            opaque_err?;
            if len > limits.item_size_max {
                return Err(McError::new(McErrorKind::ObjectTooLarge));
            }
            Ok((key, flags, mode))
        })();
        match res {
            Ok((key, flags, mode)) => {
                self.state = State::Data {
                    pending: Box::new(Pending::MetaSet { key, mode, flags }),
                    len,
                };
                Ok(None)
            }
            Err(e) => {
                self.state = State::Swallow { remaining: len + 2 };
                Err(e)
            }
        }
    }
}

/// Finds the `\n` ending the next command line. Errors when the line is over its limit.
fn find_line_end(
    buf: &BytesMut,
    scanned: &mut usize,
    limits: &McLimits,
) -> Result<Option<usize>, McError> {
    let limit = if buf.len() > LINE_MAX && is_multiget_prefix(buf) {
        limits.multiget_line_max.max(LINE_MAX)
    } else {
        LINE_MAX
    };
    // A line of `limit` content bytes plus its '\n' is accepted.
    let window_end = buf.len().min(limit + 1);
    let start = (*scanned).min(window_end);
    if let Some(rel) = buf
        .get(start..window_end)
        .and_then(|w| memchr::memchr(b'\n', w))
    {
        return Ok(Some(start + rel));
    }
    if buf.len() > limit {
        return Err(McError::new(McErrorKind::LineTooLong));
    }
    *scanned = window_end;
    Ok(None)
}

/// memcached tolerates a long line only for multigets: up to 100 leading spaces, then
/// `get `/`gets ` (we also allow `gat `/`gats `).
fn is_multiget_prefix(buf: &[u8]) -> bool {
    let spaces = buf.iter().take_while(|&&b| b == b' ').count();
    if spaces > 100 {
        return false;
    }
    let rest = buf.get(spaces..).unwrap_or_default();
    [&b"get "[..], b"gets ", b"gat ", b"gats "]
        .iter()
        .any(|p| rest.starts_with(p))
}

/// Splits on spaces only (memcached's tokenizer: tabs and other bytes belong to tokens).
fn tokenize(line: &Bytes) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &b) in line.iter().enumerate() {
        if b == b' ' {
            if let Some(s) = start.take() {
                out.push(line.slice(s..i));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(line.slice(s..));
    }
    out
}

/// memcached's `ntokens` for a line with `n` tokens (capped tokenizer + terminal token).
fn mc_ntokens(n: usize) -> usize {
    n.min(MC_MAX_TOKENS - 1) + 1
}

/// Token-count check: `min..=max` tokens including the command; else `ERROR`.
fn want(n: usize, min: usize, max: usize) -> Result<(), McError> {
    if n < min || n > max {
        Err(McError::new(McErrorKind::UnknownCommand))
    } else {
        Ok(())
    }
}

fn noreply_token(toks: &[Bytes]) -> bool {
    toks.last().is_some_and(|t| t.as_ref() == b"noreply")
}

fn unknown_command(cmd: &[u8], toks: &[Bytes]) -> McError {
    // memcached only checks for "HTTP/" in its final fallback branch, which names starting
    // with these letters (or a two-letter 'm' name) never reach.
    let first = cmd.first().copied().unwrap_or(0);
    let branch = matches!(first, b'g' | b's' | b'a' | b'c' | b'i' | b'd' | b't')
        || (first == b'm' && cmd.len() == 2);
    let last = toks.get(toks.len().min(MC_MAX_TOKENS - 1).saturating_sub(1));
    if !branch && last.is_some_and(|t| t.starts_with(b"HTTP/")) {
        McError::new(McErrorKind::HttpRequest)
    } else {
        McError::new(McErrorKind::UnknownCommand)
    }
}

/// Key rules: at most 250 bytes, no control characters (memcached itself only checks length).
fn key_ok(key: &[u8]) -> bool {
    key.len() <= KEY_MAX_LENGTH && !key.iter().any(|&b| b < 0x20 || b == 0x7f)
}

fn key_arg(toks: &[Bytes], noreply: bool) -> Result<Bytes, McError> {
    match toks.get(1) {
        Some(k) if key_ok(k) => Ok(k.clone()),
        _ => Err(McError::quiet(McErrorKind::BadCommandLineFormat, noreply)),
    }
}

fn parse_get(toks: &[Bytes]) -> Result<McRequest, McError> {
    want(toks.len(), 2, usize::MAX)?;
    let cmd = toks.first().map(|t| t.as_ref()).unwrap_or_default();
    let (touch, cas) = match cmd {
        b"gets" => (false, true),
        b"gat" => (true, false),
        b"gats" => (true, true),
        _ => (false, false),
    };
    let mut rest = toks.get(1..).unwrap_or_default();
    let mut exptime = 0;
    if touch {
        exptime = rest
            .first()
            .and_then(|t| parse_i64(t))
            .ok_or(McError::new(McErrorKind::InvalidExptime))?;
        rest = rest.get(1..).unwrap_or_default();
    }
    if !rest.iter().all(|k| key_ok(k)) {
        return Err(McError::new(McErrorKind::BadCommandLineFormat));
    }
    let keys = rest.to_vec();
    Ok(if touch {
        McRequest::Gat { exptime, keys, cas }
    } else {
        McRequest::Get { keys, cas }
    })
}

/// Common checks of mg/md/ma: key token present (else `ERROR`), key length, flag count.
fn meta_prologue(toks: &[Bytes], too_long: McErrorKind) -> Result<&Bytes, McError> {
    let raw_key = toks
        .get(1)
        .ok_or(McError::new(McErrorKind::UnknownCommand))?;
    if raw_key.len() > KEY_MAX_LENGTH {
        return Err(McError::new(McErrorKind::BadCommandLineFormat));
    }
    if mc_ntokens(toks.len()) > MFLAG_MAX_OPT_LENGTH {
        return Err(McError::new(too_long));
    }
    Ok(raw_key)
}

fn parse_mg(toks: &[Bytes]) -> Result<McRequest, McError> {
    let raw_key = meta_prologue(toks, McErrorKind::MgOptionsTooLong)?;
    let (key, flags) =
        preparse(raw_key, toks.get(2..).unwrap_or_default()).map_err(McError::new)?;
    meta_key_ok(&key, &flags)?;
    opaque_too_long(&flags)?;
    Ok(McRequest::MetaGet { key, flags })
}

fn parse_md(toks: &[Bytes]) -> Result<McRequest, McError> {
    let raw_key = meta_prologue(toks, McErrorKind::OptionsTooLong)?;
    let (key, flags) = preparse(raw_key, toks.get(2..).unwrap_or_default())
        .map_err(|_| McError::new(McErrorKind::InvalidOrDuplicateFlag))?;
    meta_key_ok(&key, &flags)?;
    opaque_too_long(&flags)?;
    Ok(McRequest::MetaDelete { key, flags })
}

fn parse_ma(toks: &[Bytes]) -> Result<McRequest, McError> {
    let raw_key = meta_prologue(toks, McErrorKind::OptionsTooLong)?;
    let (key, flags) = preparse(raw_key, toks.get(2..).unwrap_or_default())
        .map_err(|_| McError::new(McErrorKind::InvalidOrDuplicateFlag))?;
    meta_key_ok(&key, &flags)?;
    let mode = match flags.mode {
        None | Some(b'I') | Some(b'+') => ArithMode::Incr,
        Some(b'D') | Some(b'-') => ArithMode::Decr,
        Some(_) => return Err(McError::new(McErrorKind::InvalidMaMode)),
    };
    opaque_too_long(&flags)?;
    Ok(McRequest::MetaArithmetic { key, mode, flags })
}

fn parse_me(toks: &[Bytes]) -> Result<McRequest, McError> {
    let bad = McError::new(McErrorKind::BadCommandLineFormat);
    let raw_key = toks.get(1).ok_or(bad)?;
    if raw_key.len() > KEY_MAX_LENGTH {
        return Err(bad);
    }
    if toks.get(2).is_some_and(|t| t.as_ref() == b"b") {
        let key = base64::decode(raw_key).ok_or(bad)?;
        return Ok(McRequest::MetaDebug {
            key: Bytes::from(key),
            base64: true,
        });
    }
    if !key_ok(raw_key) {
        return Err(bad);
    }
    Ok(McRequest::MetaDebug {
        key: raw_key.clone(),
        base64: false,
    })
}

/// Our key rule for meta commands (memcached checks only the raw length); binary keys pass.
fn meta_key_ok(key: &[u8], flags: &MetaFlags) -> Result<(), McError> {
    if flags.base64_key || key_ok(key) {
        Ok(())
    } else {
        Err(McError::new(McErrorKind::BadCommandLineFormat))
    }
}

fn opaque_too_long(flags: &MetaFlags) -> Result<(), McError> {
    let too_long = flags
        .list
        .iter()
        .any(|f| f.flag == b'O' && 1 + f.token.as_ref().map_or(0, |t| t.len()) > OPAQUE_MAX);
    if too_long {
        Err(McError::new(McErrorKind::OpaqueTooLong))
    } else {
        Ok(())
    }
}

/// memcached's `_meta_flag_preparse`: validates flags in order and decodes a `b` key.
/// Unknown and repeated flags fail at once; bad tokens are remembered and the last
/// message wins (F has no message of its own: "bad command line format").
fn preparse(raw_key: &Bytes, flag_toks: &[Bytes]) -> Result<(Bytes, MetaFlags), McErrorKind> {
    let mut seen = [false; 128];
    let mut f = MetaFlags {
        list: Vec::with_capacity(flag_toks.len()),
        ..MetaFlags::default()
    };
    let mut key = raw_key.clone();
    let mut err: Option<McErrorKind> = None;
    let mut has_error = false;
    for tok in flag_toks {
        let Some(&o) = tok.first() else { continue };
        let idx = usize::from(o);
        match seen.get_mut(idx) {
            Some(s) if idx < 127 && !*s => *s = true,
            _ => return Err(McErrorKind::DuplicateFlag),
        }
        let rest = tok.slice(1..);
        let mut fail = |kind: Option<McErrorKind>| {
            has_error = true;
            if kind.is_some() {
                err = kind;
            }
        };
        match o {
            b'b' => match base64::decode(raw_key) {
                Some(k) => {
                    key = Bytes::from(k);
                    f.base64_key = true;
                }
                None => fail(Some(McErrorKind::ErrorDecodingKey)),
            },
            b'N' | b'T' | b'R' => match parse_i64(&rest) {
                Some(v) => match o {
                    b'N' => f.vivify_ttl = Some(v),
                    b'T' => f.ttl = Some(v),
                    _ => f.recache_ttl = Some(v),
                },
                None => fail(Some(McErrorKind::BadToken)),
            },
            b'C' | b'E' => match parse_u64(&rest) {
                Some(v) if o == b'C' => f.compare_cas = Some(v),
                Some(v) => f.new_cas = Some(v),
                None => fail(Some(McErrorKind::BadToken)),
            },
            b'F' => match parse_u32(&rest) {
                Some(v) => f.client_flags = Some(v),
                None => fail(None),
            },
            b'M' => match rest.as_ref() {
                [m] => f.mode = Some(*m),
                _ => fail(Some(McErrorKind::IncorrectMTokenLength)),
            },
            b'J' => match parse_u64(&rest) {
                Some(v) => f.initial = Some(v),
                None => fail(Some(McErrorKind::InvalidInitialValue)),
            },
            b'D' => match parse_u64(&rest) {
                Some(v) => f.delta = Some(v),
                None => fail(Some(McErrorKind::InvalidDeltaValue)),
            },
            b'q' => f.quiet = true,
            b'v' => f.value = true,
            b'u' => f.no_bump = true,
            b'I' => f.invalidate = true,
            b'x' => f.remove_value = true,
            b'l' | b'O' | b'P' | b'L' | b'k' | b's' | b't' | b'c' | b'f' | b'h' => {}
            _ => return Err(McErrorKind::InvalidFlag),
        }
        f.list.push(MetaFlag {
            flag: o,
            token: if rest.is_empty() { None } else { Some(rest) },
        });
    }
    if has_error {
        return Err(err.unwrap_or(McErrorKind::BadCommandLineFormat));
    }
    Ok((key, f))
}

/// Data length as memcached accepts it: `0..=i32::MAX - 2`.
fn data_len(v: i64) -> Option<usize> {
    if (0..=i64::from(i32::MAX) - 2).contains(&v) {
        usize::try_from(v).ok()
    } else {
        None
    }
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// C `strto*` scan as memcached's `safe_strto*` use it: leading whitespace, optional sign,
/// decimal digits, then end of token or a whitespace byte (anything after it is ignored).
/// Returns (negative, magnitude); `None` if no digits, bad trailer, or magnitude overflow.
fn scan_number(s: &[u8]) -> Option<(bool, u64)> {
    let mut it = s.iter().copied().skip_while(|&b| is_c_space(b)).peekable();
    let neg = match it.peek() {
        Some(b'-') => {
            it.next();
            true
        }
        Some(b'+') => {
            it.next();
            false
        }
        _ => false,
    };
    let mut mag: u64 = 0;
    let mut digits = 0usize;
    let mut overflow = false;
    for b in it {
        if b.is_ascii_digit() {
            digits += 1;
            match mag
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(b - b'0')))
            {
                Some(m) => mag = m,
                None => overflow = true,
            }
        } else if is_c_space(b) {
            break;
        } else {
            return None;
        }
    }
    if digits == 0 || overflow {
        return None;
    }
    Some((neg, mag))
}

/// `safe_strtoull`: a negative number is accepted only if it wraps to a value < 2^63.
pub(crate) fn parse_u64(s: &[u8]) -> Option<u64> {
    let (neg, mag) = scan_number(s)?;
    let v = if neg { mag.wrapping_neg() } else { mag };
    if neg && (v as i64) < 0 {
        return None;
    }
    Some(v)
}

/// `safe_strtoul` limited to 32 bits (memcached silently truncates larger values; we reject).
pub(crate) fn parse_u32(s: &[u8]) -> Option<u32> {
    parse_u64(s).and_then(|v| u32::try_from(v).ok())
}

/// `safe_strtol` on a 64-bit `long` (memcached then truncates to 32 bits; we keep 64).
pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, mag) = scan_number(s)?;
    if neg {
        if mag > i64::MAX as u64 + 1 {
            None
        } else {
            Some((mag as i64).wrapping_neg())
        }
    } else {
        i64::try_from(mag).ok()
    }
}
