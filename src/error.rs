//! One catalogue of wire strings, byte for byte as Redis sends them.
//!
//! A `CommandError` is answered and the connection stays open; a protocol error
//! (see `protocol::resp::ProtocolError`) is answered and then the connection is closed.
//! Texts are the part after the leading `-`.

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
pub const EXEC_WITHOUT_MULTI: &str = "ERR EXEC without MULTI";

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
