//! One catalogue of wire strings, byte for byte as Redis and memcached send them.
//!
//! A handler that fails returns a `CommandError`: the dispatcher answers it as an
//! error reply, counts it (commandstats `failed_calls`, INFO `total_error_replies`)
//! and the connection stays open. A protocol error (`protocol::resp::ProtocolError`)
//! is answered and then the connection is closed. RESP texts are the part after
//! the leading `-`; the memcached ones are whole lines without CRLF.

use std::borrow::Cow;

/// An error reply: the text after `-`. The dispatcher blanks CR/LF in it, so
/// client bytes echoed inside cannot break framing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandError(Cow<'static, [u8]>);

impl CommandError {
    pub fn text(&self) -> &[u8] {
        &self.0
    }
}

impl From<&'static str> for CommandError {
    fn from(text: &'static str) -> Self {
        CommandError(Cow::Borrowed(text.as_bytes()))
    }
}

impl From<String> for CommandError {
    fn from(text: String) -> Self {
        CommandError(Cow::Owned(text.into_bytes()))
    }
}

impl From<Vec<u8>> for CommandError {
    fn from(text: Vec<u8>) -> Self {
        CommandError(Cow::Owned(text))
    }
}

/// What a plain command handler returns: its reply is in the output buffer, or
/// it failed with an error reply the dispatcher writes.
pub type CommandResult = Result<(), CommandError>;

pub const SYNTAX: &str = "ERR syntax error";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const NOAUTH: &str = "NOAUTH Authentication required.";
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
pub const AUTH_NOT_CONFIGURED: &str = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
pub const DB_INDEX_OUT_OF_RANGE: &str = "ERR DB index is out of range";
pub const MAX_CLIENTS: &str = "ERR max number of clients reached";
pub const NO_SUCH_KEY: &str = "ERR no such key";
pub const NOPROTO: &str = "NOPROTO unsupported protocol version";
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
pub const NO_SUCH_CLIENT: &str = "ERR No such client";

// Transactions (multi.c).
pub const EXEC_WITHOUT_MULTI: &str = "ERR EXEC without MULTI";
pub const MULTI_NESTED: &str = "ERR MULTI calls can not be nested";
pub const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";
pub const DISCARD_WITHOUT_MULTI: &str = "ERR DISCARD without MULTI";
pub const WATCH_INSIDE_MULTI: &str = "ERR WATCH inside MULTI is not allowed";

// Connection commands (HELLO, CLIENT ...: networking.c).
pub const BAD_CLIENT_NAME: &str =
    "ERR Client names cannot contain spaces, newlines or special characters.";
pub const BAD_PROTOCOL_VERSION: &str = "ERR Protocol version is not an integer or out of range";
pub const HELLO_NOAUTH: &str = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time";
pub const INVALID_CLIENT_ID: &str = "ERR Invalid client ID";
pub const CLIENT_ID_NOT_POSITIVE: &str = "ERR client-id should be greater than 0";
pub const UNBLOCK_REASON: &str = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR";
/// CLIENT UNBLOCK ... ERROR, to the unblocked client.
pub const UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
/// Client text echoed inside an error, as Redis's `%s` shows it.
fn lossy(arg: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(arg)
}

/// `-ERR Syntax error in HELLO option 'foo'`
pub fn hello_syntax(option: &[u8]) -> String {
    format!("ERR Syntax error in HELLO option '{}'", lossy(option))
}

/// `-ERR Unknown client type 'foo'` (CLIENT KILL TYPE, CLIENT LIST TYPE)
pub fn unknown_client_type(kind: &[u8]) -> String {
    format!("ERR Unknown client type '{}'", lossy(kind))
}

/// `-ERR Unrecognized option 'foo'` (CLIENT SETINFO)
pub fn unrecognized_option(option: &[u8]) -> String {
    format!("ERR Unrecognized option '{}'", lossy(option))
}

/// `-ERR lib-name cannot contain spaces, newlines or special characters.`
pub fn bad_client_info(attribute: &[u8]) -> String {
    format!(
        "ERR {} cannot contain spaces, newlines or special characters.",
        lossy(attribute)
    )
}

// Server commands (config.c, server.c).
pub const NO_SHUTDOWN_IN_PROGRESS: &str = "ERR No shutdown in progress.";

/// `-ERR Unknown option or number of arguments for CONFIG SET - 'foo'`
pub fn config_set_unknown(name: &str) -> String {
    format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'")
}

/// `-ERR CONFIG SET failed (possibly related to argument 'foo') - reason`
pub fn config_set_failed(name: &str, reason: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
}

/// `-ERR unknown command 'foo', with args beginning with: 'a' 'b' `
/// (Redis `processCommand`: name and arguments echoed as raw bytes, arguments
/// shown until 128 bytes are used; `Reply::error` blanks any CR/LF.)
pub fn unknown_command(name: &[u8], args: &[bytes::Bytes]) -> Vec<u8> {
    let mut shown: Vec<u8> = Vec::new();
    for arg in args {
        if shown.len() >= 128 {
            break;
        }
        let room = 128 - shown.len();
        shown.push(b'\'');
        shown.extend_from_slice(&arg[..arg.len().min(room)]);
        shown.extend_from_slice(b"' ");
    }
    let mut msg = b"ERR unknown command '".to_vec();
    msg.extend_from_slice(&name[..name.len().min(128)]);
    msg.extend_from_slice(b"', with args beginning with: ");
    msg.extend_from_slice(&shown);
    msg
}

/// `-ERR wrong number of arguments for 'get' command` (`full_name` is `client|setname` for subcommands).
pub fn wrong_arity(full_name: &str) -> String {
    format!("ERR wrong number of arguments for '{full_name}' command")
}

/// `-ERR unknown subcommand 'foo'. Try CLIENT HELP.`
pub fn unknown_subcommand(sub: &[u8], command: &str) -> String {
    let sub = String::from_utf8_lossy(&sub[..sub.len().min(128)]);
    format!(
        "ERR unknown subcommand '{sub}'. Try {} HELP.",
        command.to_ascii_uppercase()
    )
}

/// RESP2 subscribed-context rejection (server.c `processCommand`).
pub fn not_allowed_subscribed(name: &str) -> String {
    format!("ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
}

// String family (t_string.c).
pub const STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
pub const OFFSET_OUT_OF_RANGE: &str = "ERR offset is out of range";
pub const NAN_OR_INFINITY: &str = "ERR increment would produce NaN or Infinity";
pub const DECREMENT_OVERFLOW: &str = "ERR decrement would overflow";

/// `-ERR invalid expire time in 'set' command` (`command` is the lower-case full name).
pub fn invalid_expire_time(command: &str) -> String {
    format!("ERR invalid expire time in '{command}' command")
}

// Lists (t_list.c, and the timeout parser of blocking commands).
pub const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
pub const NOT_POSITIVE: &str = "ERR value is out of range, must be positive";
pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
pub const TIMEOUT_OUT_OF_RANGE: &str = "ERR timeout is out of range";
pub const NUMKEYS_NOT_POSITIVE: &str = "ERR numkeys should be greater than 0";
pub const COUNT_NOT_POSITIVE: &str = "ERR count should be greater than 0";
pub const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
/// LPOS RANK -9223372036854775808 (its negation would overflow).
pub const RANK_OUT_OF_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
pub const COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
pub const MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";

// The generic key family (src/commands/keys.rs).
pub const SAME_OBJECT: &str = "ERR source and destination objects are the same";
pub const INVALID_CURSOR: &str = "ERR invalid cursor";
/// `getIntFromObjectOrReply` on an integer outside C `int` (MOVE, COPY ... DB).
pub const INT_OUT_OF_RANGE: &str =
    "ERR value is out of range, value must between -2147483648 and 2147483647";
pub const INVALID_FIRST_DB: &str = "ERR invalid first DB index";
pub const INVALID_SECOND_DB: &str = "ERR invalid second DB index";
pub const EXPIRE_NX_CONFLICT: &str =
    "ERR NX and XX, GT or LT options at the same time are not compatible";
pub const EXPIRE_GT_LT_CONFLICT: &str = "ERR GT and LT options at the same time are not compatible";
pub const LFU_NOT_SELECTED: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
pub const LFU_SELECTED: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/// `-ERR Unsupported option foo` (EXPIRE family). Redis formats the option with
/// `%s`, so it is echoed raw up to its first NUL byte.
pub fn unsupported_option(option: &[u8]) -> Vec<u8> {
    let shown = option.split(|&b| b == 0).next().unwrap_or_default();
    let mut msg = b"ERR Unsupported option ".to_vec();
    msg.extend_from_slice(shown);
    msg
}

/// memcached replies sent by `commands::memcache` (the codec owns the parse-time ones).
pub const MC_OUT_OF_MEMORY_STORING: &str = "SERVER_ERROR out of memory storing object";
pub const MC_OUT_OF_MEMORY: &str = "SERVER_ERROR out of memory";
pub const MC_NON_NUMERIC: &str = "CLIENT_ERROR cannot increment or decrement non-numeric value";
pub const MC_STATS_DETAIL_USAGE: &str = "CLIENT_ERROR usage: stats detail on|off|dump";
pub const MC_CACHEDUMP_NOT_ALLOWED: &str = "CLIENT_ERROR stats cachedump not allowed";
/// Sent to a memcached client over `maxclients`, before closing.
pub const MC_TOO_MANY_CONNECTIONS: &str = "SERVER_ERROR Too many open connections";

/// Transactions (issue 12): a `no-multi` command (SAVE, SHUTDOWN, ...) sent
/// while queueing; the transaction is doomed.
pub const NOT_ALLOWED_IN_MULTI: &str = "ERR Command not allowed inside a transaction";
/// SAVE: herald keeps no RDB file, so a save always fails; Redis answers a
/// failed save with a bare `-ERR`.
pub const SAVE_FAILED: &str = "ERR";

/// CONFIG SET port to another port: herald's listeners are fixed at startup
/// (Redis's "Unable to listen on this port" failure, with herald's reason).
pub const CONFIG_PORT_FIXED: &str =
    "Unable to listen on this port: herald does not move its listener at runtime";

/// `-ERR No such user 'x'` (CLIENT KILL USER; herald has only `default`).
pub fn no_such_user(name: &[u8]) -> Vec<u8> {
    let mut msg = b"ERR No such user '".to_vec();
    msg.extend_from_slice(name);
    msg.push(b'\'');
    msg
}

/// CONFIG REWRITE with no --config (Redis's text), and with one: herald does
/// not rewrite its TOML file.
pub const NO_CONFIG_FILE: &str = "ERR The server is running without a config file";
pub const CONFIG_REWRITE_UNSUPPORTED: &str =
    "ERR CONFIG REWRITE is not supported: herald does not rewrite its configuration file";
