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
pub(crate) struct CommandError(Cow<'static, [u8]>);

impl CommandError {
    pub(crate) fn text(&self) -> &[u8] {
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
pub(crate) type CommandResult = Result<(), CommandError>;

pub(crate) const SYNTAX: &str = "ERR syntax error";
pub(crate) const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub(crate) const NOT_FLOAT: &str = "ERR value is not a valid float";
pub(crate) const OVERFLOW: &str = "ERR increment or decrement would overflow";
pub(crate) const WRONGTYPE: &str =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
pub(crate) const NOAUTH: &str = "NOAUTH Authentication required.";
pub(crate) const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
pub(crate) const AUTH_NOT_CONFIGURED: &str = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
pub(crate) const DB_INDEX_OUT_OF_RANGE: &str = "ERR DB index is out of range";
pub(crate) const MAX_CLIENTS: &str = "ERR max number of clients reached";
pub(crate) const NO_SUCH_KEY: &str = "ERR no such key";
pub(crate) const NOPROTO: &str = "NOPROTO unsupported protocol version";
pub(crate) const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
pub(crate) const NO_SUCH_CLIENT: &str = "ERR No such client";

// Transactions (multi.c).
pub(crate) const EXEC_WITHOUT_MULTI: &str = "ERR EXEC without MULTI";
pub(crate) const MULTI_NESTED: &str = "ERR MULTI calls can not be nested";
pub(crate) const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";
pub(crate) const DISCARD_WITHOUT_MULTI: &str = "ERR DISCARD without MULTI";
pub(crate) const WATCH_INSIDE_MULTI: &str = "ERR WATCH inside MULTI is not allowed";

// Connection commands (HELLO, CLIENT ...: networking.c).
pub(crate) const BAD_CLIENT_NAME: &str =
    "ERR Client names cannot contain spaces, newlines or special characters.";
pub(crate) const BAD_PROTOCOL_VERSION: &str =
    "ERR Protocol version is not an integer or out of range";
pub(crate) const HELLO_NOAUTH: &str = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time";
pub(crate) const INVALID_CLIENT_ID: &str = "ERR Invalid client ID";
pub(crate) const CLIENT_ID_NOT_POSITIVE: &str = "ERR client-id should be greater than 0";
pub(crate) const UNBLOCK_REASON: &str = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR";
/// CLIENT UNBLOCK ... ERROR, to the unblocked client.
pub(crate) const UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
/// Client text echoed inside an error, as Redis's `%s` shows it.
fn lossy(arg: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(arg)
}

/// `-ERR Syntax error in HELLO option 'foo'`
pub(crate) fn hello_syntax(option: &[u8]) -> String {
    format!("ERR Syntax error in HELLO option '{}'", lossy(option))
}

/// `-ERR Unknown client type 'foo'` (CLIENT KILL TYPE, CLIENT LIST TYPE)
pub(crate) fn unknown_client_type(kind: &[u8]) -> String {
    format!("ERR Unknown client type '{}'", lossy(kind))
}

/// `-ERR Unrecognized option 'foo'` (CLIENT SETINFO)
pub(crate) fn unrecognized_option(option: &[u8]) -> String {
    format!("ERR Unrecognized option '{}'", lossy(option))
}

/// `-ERR lib-name cannot contain spaces, newlines or special characters.`
pub(crate) fn bad_client_info(attribute: &[u8]) -> String {
    format!(
        "ERR {} cannot contain spaces, newlines or special characters.",
        lossy(attribute)
    )
}

// Server commands (config.c, server.c).
pub(crate) const NO_SHUTDOWN_IN_PROGRESS: &str = "ERR No shutdown in progress.";

/// `-ERR Unknown option or number of arguments for CONFIG SET - 'foo'`
pub(crate) fn config_set_unknown(name: &str) -> String {
    format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'")
}

/// `-ERR CONFIG SET failed (possibly related to argument 'foo') - reason`
pub(crate) fn config_set_failed(name: &str, reason: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
}

/// `-ERR unknown command 'foo', with args beginning with: 'a' 'b' `
/// (Redis `processCommand`: name and arguments echoed as raw bytes, arguments
/// shown until 128 bytes are used; `Reply::error` blanks any CR/LF.)
pub(crate) fn unknown_command(name: &[u8], args: &[bytes::Bytes]) -> Vec<u8> {
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
pub(crate) fn wrong_arity(full_name: &str) -> String {
    format!("ERR wrong number of arguments for '{full_name}' command")
}

/// `-ERR unknown subcommand 'foo'. Try CLIENT HELP.`
pub(crate) fn unknown_subcommand(sub: &[u8], command: &str) -> String {
    let sub = String::from_utf8_lossy(&sub[..sub.len().min(128)]);
    format!(
        "ERR unknown subcommand '{sub}'. Try {} HELP.",
        command.to_ascii_uppercase()
    )
}

/// RESP2 subscribed-context rejection (server.c `processCommand`).
pub(crate) fn not_allowed_subscribed(name: &str) -> String {
    format!("ERR Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
}

// String family (t_string.c).
pub(crate) const STRING_TOO_LONG: &str =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
pub(crate) const OFFSET_OUT_OF_RANGE: &str = "ERR offset is out of range";
pub(crate) const NAN_OR_INFINITY: &str = "ERR increment would produce NaN or Infinity";
pub(crate) const DECREMENT_OVERFLOW: &str = "ERR decrement would overflow";

/// `-ERR invalid expire time in 'set' command` (`command` is the lower-case full name).
pub(crate) fn invalid_expire_time(command: &str) -> String {
    format!("ERR invalid expire time in '{command}' command")
}

// Lists (t_list.c, and the timeout parser of blocking commands).
pub(crate) const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
pub(crate) const NOT_POSITIVE: &str = "ERR value is out of range, must be positive";
pub(crate) const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
pub(crate) const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
pub(crate) const TIMEOUT_OUT_OF_RANGE: &str = "ERR timeout is out of range";
pub(crate) const NUMKEYS_NOT_POSITIVE: &str = "ERR numkeys should be greater than 0";
pub(crate) const COUNT_NOT_POSITIVE: &str = "ERR count should be greater than 0";
pub(crate) const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
/// LPOS RANK -9223372036854775808 (its negation would overflow).
pub(crate) const RANK_OUT_OF_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
pub(crate) const COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
pub(crate) const MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";

// Sets (t_set.c).
/// SINTERCARD numkeys larger than the arguments that follow it.
pub(crate) const NUMKEYS_OVER_ARGS: &str =
    "ERR Number of keys can't be greater than number of args";
pub(crate) const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";
/// SRANDMEMBER count -9223372036854775808 (a count is -LONG_MAX..LONG_MAX).
pub(crate) const RANDOM_COUNT_OUT_OF_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
/// A count whose reply could not fit in memory (herald's limit, see sets.rs).
pub(crate) const VALUE_OUT_OF_RANGE: &str = "ERR value is out of range";

// The generic key family (src/commands/keys.rs).
pub(crate) const SAME_OBJECT: &str = "ERR source and destination objects are the same";
pub(crate) const INVALID_CURSOR: &str = "ERR invalid cursor";
/// `getIntFromObjectOrReply` on an integer outside C `int` (MOVE, COPY ... DB).
pub(crate) const INT_OUT_OF_RANGE: &str =
    "ERR value is out of range, value must between -2147483648 and 2147483647";
pub(crate) const INVALID_FIRST_DB: &str = "ERR invalid first DB index";
pub(crate) const INVALID_SECOND_DB: &str = "ERR invalid second DB index";
pub(crate) const EXPIRE_NX_CONFLICT: &str =
    "ERR NX and XX, GT or LT options at the same time are not compatible";
pub(crate) const EXPIRE_GT_LT_CONFLICT: &str =
    "ERR GT and LT options at the same time are not compatible";
pub(crate) const LFU_NOT_SELECTED: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
pub(crate) const LFU_SELECTED: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/// `-ERR Unsupported option foo` (EXPIRE family). Redis formats the option with
/// `%s`, so it is echoed raw up to its first NUL byte.
pub(crate) fn unsupported_option(option: &[u8]) -> Vec<u8> {
    let shown = option.split(|&b| b == 0).next().unwrap_or_default();
    let mut msg = b"ERR Unsupported option ".to_vec();
    msg.extend_from_slice(shown);
    msg
}

/// memcached replies sent by `commands::memcache` (the codec owns the parse-time ones).
pub(crate) const MC_OUT_OF_MEMORY_STORING: &str = "SERVER_ERROR out of memory storing object";
pub(crate) const MC_OUT_OF_MEMORY: &str = "SERVER_ERROR out of memory";
pub(crate) const MC_NON_NUMERIC: &str =
    "CLIENT_ERROR cannot increment or decrement non-numeric value";
pub(crate) const MC_STATS_DETAIL_USAGE: &str = "CLIENT_ERROR usage: stats detail on|off|dump";
pub(crate) const MC_CACHEDUMP_NOT_ALLOWED: &str = "CLIENT_ERROR stats cachedump not allowed";
/// Sent to a memcached client over `maxclients`, before closing.
pub(crate) const MC_TOO_MANY_CONNECTIONS: &str = "SERVER_ERROR Too many open connections";

/// Transactions (issue 12): a `no-multi` command (SAVE, SHUTDOWN, ...) sent
/// while queueing; the transaction is doomed.
pub(crate) const NOT_ALLOWED_IN_MULTI: &str = "ERR Command not allowed inside a transaction";
/// SAVE: herald keeps no RDB file, so a save always fails; Redis answers a
/// failed save with a bare `-ERR`.
pub(crate) const SAVE_FAILED: &str = "ERR";

/// CONFIG SET port to another port: herald's listeners are fixed at startup
/// (Redis's "Unable to listen on this port" failure, with herald's reason).
pub(crate) const CONFIG_PORT_FIXED: &str =
    "Unable to listen on this port: herald does not move its listener at runtime";

// Bit and LCS commands (src/commands/bits.rs: bitops.c, t_string.c `lcsCommand`).
pub(crate) const BIT_OFFSET_OUT_OF_RANGE: &str = "ERR bit offset is not an integer or out of range";
pub(crate) const BIT_OUT_OF_RANGE: &str = "ERR bit is not an integer or out of range";
pub(crate) const BIT_ARGUMENT: &str = "ERR The bit argument must be 1 or 0.";
pub(crate) const BITOP_NOT_SINGLE_KEY: &str =
    "ERR BITOP NOT must be called with a single source key.";
pub(crate) const BITFIELD_TYPE: &str = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
pub(crate) const BITFIELD_OVERFLOW_TYPE: &str = "ERR Invalid OVERFLOW type specified";
pub(crate) const BITFIELD_RO_GET_ONLY: &str = "ERR BITFIELD_RO only supports the GET subcommand";
pub(crate) const LCS_NOT_STRINGS: &str = "ERR The specified keys must contain string values";
pub(crate) const LCS_LEN_AND_IDX: &str =
    "ERR If you want both the length and indexes, please just use IDX.";
pub(crate) const LCS_TOO_LONG: &str = "ERR String too long for LCS";
pub(crate) const LCS_OVER_MAX_BULK: &str =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
pub(crate) const LCS_ALLOC_FAILED: &str =
    "ERR Insufficient memory, failed allocating transient memory for LCS";

// Hashes (src/commands/hashes.rs: t_hash.c).
pub(crate) const HASH_NOT_INTEGER: &str = "ERR hash value is not an integer";
pub(crate) const HASH_NOT_FLOAT: &str = "ERR hash value is not a float";
/// HINCRBYFLOAT with an infinite increment.
pub(crate) const HASH_INCR_NAN_OR_INFINITY: &str = "ERR value is NaN or Infinity";
/// HRANDFIELD count -9223372036854775808 (a count is -LONG_MAX..LONG_MAX).
pub(crate) const HASH_COUNT_OUT_OF_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
/// HRANDFIELD WITHVALUES beyond ±LONG_MAX/2, or a reply that could not fit in memory.
pub(crate) const HASH_VALUE_OUT_OF_RANGE: &str = "ERR value is out of range";

/// `-ERR No such user 'x'` (CLIENT KILL USER; herald has only `default`).
pub(crate) fn no_such_user(name: &[u8]) -> Vec<u8> {
    let mut msg = b"ERR No such user '".to_vec();
    msg.extend_from_slice(name);
    msg.push(b'\'');
    msg
}

/// CONFIG REWRITE with no --config (Redis's text), and with one: herald does
/// not rewrite its TOML file.
pub(crate) const NO_CONFIG_FILE: &str = "ERR The server is running without a config file";
pub(crate) const CONFIG_REWRITE_UNSUPPORTED: &str =
    "ERR CONFIG REWRITE is not supported: herald does not rewrite its configuration file";
/// MONITOR inside MULTI/EXEC (Redis: a client that expects one reply per command).
pub(crate) const MONITOR_DENY_BLOCKING: &str = "ERR MONITOR isn't allowed for DENY BLOCKING client";
/// A client in MONITOR mode ran a command that reads or writes keys.
pub(crate) const REPLICA_KEYSPACE: &str = "ERR Replica can't interact with the keyspace";
/// COMMAND GETKEYS / GETKEYSANDFLAGS (Redis 7 getKeysSubcommandImpl).
pub(crate) const GETKEYS_INVALID_COMMAND: &str = "ERR Invalid command specified";
pub(crate) const GETKEYS_NO_KEYS: &str = "ERR The command has no key arguments";
pub(crate) const GETKEYS_WRONG_ARITY: &str =
    "ERR Invalid number of arguments specified for command";
pub(crate) const GETKEYS_INVALID_ARGUMENTS: &str = "ERR Invalid arguments specified for command";
/// CLUSTER subcommands: herald has no cluster mode.
pub(crate) const CLUSTER_DISABLED: &str = "ERR This instance has cluster support disabled";

// DUMP / RESTORE (Redis cluster.c).
pub(crate) const BUSYKEY: &str = "BUSYKEY Target key name already exists.";
pub(crate) const INVALID_TTL: &str = "ERR Invalid TTL value, must be >= 0";
pub(crate) const INVALID_IDLETIME: &str = "ERR Invalid IDLETIME value, must be >= 0";
pub(crate) const INVALID_FREQ: &str = "ERR Invalid FREQ value, must be >= 0 and <= 255";
pub(crate) const DUMP_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";
pub(crate) const BAD_DATA_FORMAT: &str = "ERR Bad data format";

// HyperLogLog (hyperloglog.c).
pub(crate) const HLL_WRONGTYPE: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
pub(crate) const HLL_CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";
pub(crate) const HLL_NOT_SPARSE: &str = "ERR HLL encoding is not sparse";
pub(crate) const PFDEBUG_NO_SUCH_KEY: &str = "ERR The specified key does not exist";
pub(crate) fn unknown_pfdebug_subcommand(sub: &[u8]) -> String {
    format!("ERR Unknown PFDEBUG subcommand '{}'", lossy(sub))
}

// SORT (sort.c).
pub(crate) const SORT_NOT_A_DOUBLE: &str = "ERR One or more scores can't be converted into double";
// Sorted sets (t_zset.c).
pub(crate) const ZSET_NAN: &str = "ERR resulting score is not a number (NaN)";
pub(crate) const ZSET_MIN_MAX_NOT_FLOAT: &str = "ERR min or max is not a float";
pub(crate) const ZSET_NOT_STRING_RANGE: &str = "ERR min or max not valid string range item";
pub(crate) const ZADD_NX_XX: &str = "ERR XX and NX options at the same time are not compatible";
pub(crate) const ZADD_GT_LT_NX: &str =
    "ERR GT, LT, and/or NX options at the same time are not compatible";
pub(crate) const ZADD_INCR_PAIR: &str = "ERR INCR option supports a single increment-element pair";
pub(crate) const ZRANGE_LIMIT_NEEDS_BY: &str =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
pub(crate) const ZRANGE_WITHSCORES_BYLEX: &str =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
pub(crate) const WEIGHT_NOT_FLOAT: &str = "ERR weight value is not a float";
pub(crate) const ZRANDMEMBER_COUNT_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

/// `-ERR at least 1 input key is needed for 'zunionstore' command`.
pub(crate) fn at_least_one_input_key(command: &str) -> String {
    format!("ERR at least 1 input key is needed for '{command}' command")
}

// Streams and consumer groups (t_stream.c).
pub(crate) const STREAM_INVALID_ID: &str =
    "ERR Invalid stream ID specified as stream command argument";
pub(crate) const XADD_ID_ZERO: &str = "ERR The ID specified in XADD must be greater than 0-0";
pub(crate) const XADD_ID_NOT_GREATER: &str =
    "ERR The ID specified in XADD is equal or smaller than the target stream top item";
pub(crate) const XADD_TOO_LARGE: &str = "ERR Elements are too large to be stored";
pub(crate) const XADD_EXHAUSTED: &str =
    "ERR The stream has exhausted the last possible ID, unable to add more items";
pub(crate) const STREAM_MAXLEN_MINID: &str =
    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
pub(crate) const STREAM_MAXLEN_NEGATIVE: &str = "ERR The MAXLEN argument must be >= 0.";
pub(crate) const STREAM_LIMIT_NEGATIVE: &str = "ERR The LIMIT argument must be >= 0.";
pub(crate) const STREAM_LIMIT_NO_STRATEGY: &str =
    "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy";
pub(crate) const XTRIM_NO_STRATEGY: &str =
    "ERR syntax error, XTRIM must be called with a trimming strategy";
pub(crate) const STREAM_LIMIT_NO_APPROX: &str =
    "ERR syntax error, LIMIT cannot be used without the special ~ option";
pub(crate) const STREAM_INVALID_START: &str = "ERR invalid start ID for the interval";
pub(crate) const STREAM_INVALID_END: &str = "ERR invalid end ID for the interval";
pub(crate) const XSETID_ENTRIES_ADDED_NEGATIVE: &str = "ERR entries_added must be positive";
pub(crate) const XSETID_SMALLER_THAN_MAX_DELETED: &str =
    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id";
pub(crate) const XSETID_SMALLER_THAN_TOP: &str =
    "ERR The ID specified in XSETID is smaller than the target stream top item";
pub(crate) const XSETID_ENTRIES_ADDED_SMALLER: &str =
    "ERR The entries_added specified in XSETID is smaller than the target stream length";
pub(crate) const XREAD_TIMEOUT_NOT_INTEGER: &str = "ERR timeout is not an integer or out of range";
pub(crate) const XREAD_UNBALANCED: &str =
    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.";
pub(crate) const XREAD_GROUP_OPTION: &str =
    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.";
pub(crate) const XREAD_NOACK_OPTION: &str =
    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.";
pub(crate) const XREADGROUP_MISSING_GROUP: &str = "ERR Missing GROUP option for XREADGROUP";
pub(crate) const XREADGROUP_DOLLAR: &str = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.";
pub(crate) const XREADGROUP_PLUS: &str = "ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would just return an empty result set.";
pub(crate) const XREAD_PLUS_AT_ZERO: &str = "ERR the stream last element ID is 0-0";
pub(crate) const XREAD_GREATER: &str = "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.";
pub(crate) const XREADGROUP_GROUP_GONE: &str =
    "NOGROUP the consumer group this client was blocked on no longer exists";
pub(crate) const XREADGROUP_KEY_GONE: &str = "UNBLOCKED the stream key no longer exists";
pub(crate) const XGROUP_KEY_REQUIRED: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";
pub(crate) const XGROUP_ENTRIES_READ: &str = "ERR value for ENTRIESREAD must be positive or -1";
pub(crate) const BUSYGROUP: &str = "BUSYGROUP Consumer Group name already exists";
pub(crate) const XCLAIM_MIN_IDLE: &str = "ERR Invalid min-idle-time argument for XCLAIM";
pub(crate) const XCLAIM_IDLE: &str = "ERR Invalid IDLE option argument for XCLAIM";
pub(crate) const XCLAIM_TIME: &str = "ERR Invalid TIME option argument for XCLAIM";
pub(crate) const XCLAIM_RETRYCOUNT: &str = "ERR Invalid RETRYCOUNT option argument for XCLAIM";
pub(crate) const XAUTOCLAIM_MIN_IDLE: &str = "ERR Invalid min-idle-time argument for XAUTOCLAIM";
pub(crate) const XAUTOCLAIM_COUNT: &str = "ERR COUNT must be > 0";

/// `-ERR XREAD command is not allowed with BLOCK option from scripts`.
pub(crate) fn stream_block_in_script(command: &[u8]) -> String {
    format!(
        "ERR {} command is not allowed with BLOCK option from scripts",
        lossy(command)
    )
}

/// `-NOGROUP No such key 'k' or consumer group 'g' in XREADGROUP with GROUP option`.
pub(crate) fn nogroup_xreadgroup(key: &[u8], group: &[u8]) -> String {
    format!(
        "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
        lossy(key),
        lossy(group)
    )
}

/// `-NOGROUP No such key 'k' or consumer group 'g'` (XPENDING, XCLAIM, XAUTOCLAIM).
pub(crate) fn nogroup_key_or_group(key: &[u8], group: &[u8]) -> String {
    format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        lossy(key),
        lossy(group)
    )
}

/// `-NOGROUP No such consumer group 'g' for key name 'k'` (XGROUP, XINFO CONSUMERS).
pub(crate) fn nogroup_for_key(group: &[u8], key: &[u8]) -> String {
    format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        lossy(group),
        lossy(key)
    )
}

/// `-ERR Unrecognized XCLAIM option 'foo'`.
pub(crate) fn xclaim_unknown_option(opt: &[u8]) -> String {
    format!("ERR Unrecognized XCLAIM option '{}'", lossy(opt))
}

/// `-ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.`
pub(crate) fn subcommand_syntax(sub: &[u8], command: &str) -> String {
    let sub = String::from_utf8_lossy(&sub[..sub.len().min(128)]);
    format!(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {} HELP.",
        command.to_ascii_uppercase()
    )
}
