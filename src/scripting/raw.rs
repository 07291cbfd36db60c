//! The per-command paths of a script, on the Lua stack through the C API:
//! `redis.call` / `redis.pcall` as C functions that read their arguments off
//! the stack and push the reply, KEYS and ARGV, and the conversion of what a
//! script returned.
//!
//! mlua's safe API costs a handle (a reference slot, a guard, a drop) per
//! value it touches: through it, one `redis.call('INCR', k)` cost twice
//! redis-server's whole `scriptCall`. Everything here is a few C API calls
//! per value, as Redis's own `luaRedisGenericCommand` is.
//!
//! Errors raised here (`lua_error`) jump over Rust frames, so the C functions
//! raise only after every Rust value of the call is dropped, and nothing here
//! raises otherwise: pushes run with the memory cap lifted (`MemoryCap::off`)
//! and after `lua_checkstack`.

use std::os::raw::{c_char, c_int};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use bytes::Bytes;
use mlua::ffi::{self, lua_State};
use mlua::Lua;

use super::resp::RespValue;
use super::{error_text, format_g14, format_g17, lua_number_to_i64, MemoryCap, RunnerSlot};
use super::{ScriptReply, MAX_REPLY_DEPTH};

/// What the `redis.call` / `redis.pcall` C closures reach through their
/// upvalue (a light userdata). An `Arc` kept in the interpreter's app data,
/// so it lives exactly as long as the Lua state that can call them.
pub(super) struct CallApi {
    pub runner: Arc<RunnerSlot>,
    pub resp: Arc<AtomicU8>,
    pub memory_limit: Arc<AtomicUsize>,
}

const OUTSIDE: &str = "redis.call/pcall can only be called inside a script invocation";

/// `redis.call(...)`: the command's reply; an error reply is raised.
pub(super) unsafe extern "C-unwind" fn redis_call(state: *mut lua_State) -> c_int {
    if call_command(state) {
        // Every Rust value of the call is dropped by now.
        ffi::lua_error(state);
    }
    1
}

/// `redis.pcall(...)`: the command's reply, an error reply as its table.
pub(super) unsafe extern "C-unwind" fn redis_pcall(state: *mut lua_State) -> c_int {
    call_command(state);
    1
}

/// Run the command in stack slots 1..=top and push its reply (or an error
/// table); true when what it pushed is an error.
unsafe fn call_command(state: *mut lua_State) -> bool {
    // SAFETY: the upvalue is the CallApi this closure was made with (see
    // CallApi for its lifetime); the Lua state is mlua's own.
    let api = &*(ffi::lua_touserdata(state, ffi::lua_upvalueindex(1)) as *const CallApi);
    let lua = Lua::get_or_init_from_ptr(state);
    let _cap = MemoryCap::off(lua, &api.memory_limit);
    let argc = ffi::lua_gettop(state);
    let args = match command_args(state, argc) {
        Ok(args) => args,
        Err(text) => {
            push_error_table(state, text, false);
            return true;
        }
    };
    ffi::lua_settop(state, 0);
    let resp = api.resp.load(Relaxed);
    // A panic must not unwind into Lua's C frames.
    let reply = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        api.runner.with(|runner| runner.call(args, resp))
    }));
    match reply {
        Ok(Some(reply)) => {
            push_reply(state, &reply, 0);
            matches!(reply, RespValue::Error(_))
        }
        Ok(None) => {
            push_error_table(state, OUTSIDE, false);
            true
        }
        Err(_) => {
            push_error_table(state, "ERR internal error running the command", false);
            true
        }
    }
}

/// redis.call's arguments, stack slots 1..=argc: strings as they are,
/// numbers as `%.17g` (Redis's luaArgsToRedisArgv).
unsafe fn command_args(state: *mut lua_State, argc: c_int) -> Result<Vec<Bytes>, &'static str> {
    if argc == 0 {
        return Err("Please specify at least one argument for this redis lib call");
    }
    let mut args = Vec::with_capacity(argc as usize);
    for i in 1..=argc {
        match ffi::lua_type(state, i) {
            ffi::LUA_TSTRING => args.push(Bytes::copy_from_slice(bytes_at(state, i))),
            ffi::LUA_TNUMBER => args.push(number_arg(ffi::lua_tonumber(state, i))),
            _ => return Err("Lua redis lib command arguments must be strings or integers"),
        }
    }
    Ok(args)
}

/// A number argument: `%.17g`, which for an integer below 2^53 is its digits.
fn number_arg(n: f64) -> Bytes {
    if n.fract() == 0.0 && n.abs() < 9.0e15 && !(n == 0.0 && n.is_sign_negative()) {
        Bytes::copy_from_slice(itoa::Buffer::new().format(n as i64).as_bytes())
    } else {
        Bytes::from(format_g17(n))
    }
}

/// The bytes of the string in slot `idx` (the caller checked its type).
unsafe fn bytes_at<'a>(state: *mut lua_State, idx: c_int) -> &'a [u8] {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(state, idx, &mut len);
    if p.is_null() {
        &[]
    } else {
        std::slice::from_raw_parts(p as *const u8, len)
    }
}

pub(super) unsafe fn push_bytes(state: *mut lua_State, b: &[u8]) {
    ffi::lua_pushlstring(state, b.as_ptr() as *const c_char, b.len());
}

/// `{item, item, ...}`: KEYS and ARGV.
pub(super) unsafe fn push_string_array(state: *mut lua_State, items: &[Bytes]) {
    ffi::lua_createtable(state, c_int::try_from(items.len()).unwrap_or(c_int::MAX), 0);
    for (i, item) in items.iter().enumerate() {
        push_bytes(state, item);
        ffi::lua_rawseti(state, -2, (i + 1) as ffi::lua_Integer);
    }
}

/// `{err = "CODE msg"}`, plus `ignore_error_stats_update` when `counted`
/// (an error a command already counted in the error stats).
unsafe fn push_error_table(state: *mut lua_State, text: &str, counted: bool) {
    let full = error_text(text);
    ffi::lua_createtable(state, 0, 2);
    push_bytes(state, b"err");
    push_bytes(state, full.as_bytes());
    ffi::lua_rawset(state, -3);
    if counted {
        push_bytes(state, b"ignore_error_stats_update");
        ffi::lua_pushboolean(state, 1);
        ffi::lua_rawset(state, -3);
    }
}

/// `{name = <value on top>}`: replaces the value on top with the table.
unsafe fn wrap_in_field_table(state: *mut lua_State, name: &[u8]) {
    ffi::lua_createtable(state, 0, 1);
    push_bytes(state, name);
    ffi::lua_pushvalue(state, -3);
    ffi::lua_rawset(state, -3);
    ffi::lua_replace(state, -2);
}

/// Push a command's reply as Redis's redisProtocolToLuaType does: integers
/// are numbers, bulk strings strings, a RESP2 null false, a status
/// `{ok=...}`, an error `{err=...}`, RESP3 maps, sets, doubles, big numbers
/// and verbatim strings tables with one field naming the type. Pushes one
/// value (nil past the depth a stack can hold).
pub(super) unsafe fn push_reply(state: *mut lua_State, reply: &RespValue, depth: usize) {
    if depth > MAX_REPLY_DEPTH || ffi::lua_checkstack(state, 4) == 0 {
        ffi::lua_pushnil(state);
        return;
    }
    match reply {
        RespValue::Status(s) => {
            push_bytes(state, s);
            wrap_in_field_table(state, b"ok");
        }
        RespValue::Error(e) => {
            let text = format!("-{}", String::from_utf8_lossy(e));
            push_error_table(state, &text, true);
        }
        RespValue::Int(n) => ffi::lua_pushnumber(state, *n as f64),
        RespValue::Bulk(b) => push_bytes(state, b),
        RespValue::NullBulk => ffi::lua_pushboolean(state, 0),
        RespValue::Null => ffi::lua_pushnil(state),
        RespValue::Array(items) => {
            ffi::lua_createtable(state, c_int::try_from(items.len()).unwrap_or(c_int::MAX), 0);
            for (i, item) in items.iter().enumerate() {
                push_reply(state, item, depth + 1);
                ffi::lua_rawseti(state, -2, (i + 1) as ffi::lua_Integer);
            }
        }
        // Maps and sets start empty, as Redis's lua_newtable: a table's
        // iteration order (pairs) depends on how it grew.
        RespValue::Map(pairs) => {
            ffi::lua_createtable(state, 0, 0);
            for (k, v) in pairs {
                push_reply(state, k, depth + 1);
                if !usable_key(state) {
                    ffi::lua_pop(state, 1);
                    continue;
                }
                push_reply(state, v, depth + 1);
                ffi::lua_rawset(state, -3);
            }
            wrap_in_field_table(state, b"map");
        }
        RespValue::Set(items) => {
            ffi::lua_createtable(state, 0, 0);
            for item in items {
                push_reply(state, item, depth + 1);
                if !usable_key(state) {
                    ffi::lua_pop(state, 1);
                    continue;
                }
                ffi::lua_pushboolean(state, 1);
                ffi::lua_rawset(state, -3);
            }
            wrap_in_field_table(state, b"set");
        }
        RespValue::Double(d) => {
            ffi::lua_pushnumber(state, *d);
            wrap_in_field_table(state, b"double");
        }
        RespValue::Bool(b) => ffi::lua_pushboolean(state, c_int::from(*b)),
        RespValue::BigNumber(s) => {
            push_bytes(state, s);
            wrap_in_field_table(state, b"big_number");
        }
        RespValue::Verbatim(format, text) => {
            ffi::lua_createtable(state, 0, 2);
            push_bytes(state, b"string");
            push_bytes(state, text);
            ffi::lua_rawset(state, -3);
            push_bytes(state, b"format");
            push_bytes(state, format);
            ffi::lua_rawset(state, -3);
            wrap_in_field_table(state, b"verbatim_string");
        }
    }
}

/// Whether the value on top can be a table key (not nil, not NaN).
unsafe fn usable_key(state: *mut lua_State) -> bool {
    match ffi::lua_type(state, -1) {
        ffi::LUA_TNIL => false,
        ffi::LUA_TNUMBER => !ffi::lua_tonumber(state, -1).is_nan(),
        _ => true,
    }
}

/// Push `t[name]` of the table in slot `idx` (absolute); its type.
unsafe fn field(state: *mut lua_State, idx: c_int, name: &[u8]) -> c_int {
    push_bytes(state, name);
    ffi::lua_rawget(state, idx);
    ffi::lua_type(state, -1)
}

/// `t[name]` as text when it is a string.
unsafe fn string_field(state: *mut lua_State, idx: c_int, name: &[u8]) -> Option<Vec<u8>> {
    let value = (field(state, idx, name) == ffi::LUA_TSTRING).then(|| bytes_at(state, -1).to_vec());
    ffi::lua_pop(state, 1);
    value
}

/// What a script returned (slot `idx`, absolute), as Redis's
/// luaReplyToRedisReply.
pub(super) unsafe fn reply_at(
    state: *mut lua_State,
    idx: c_int,
    resp: u8,
    depth: usize,
) -> ScriptReply {
    if depth >= MAX_REPLY_DEPTH {
        return stack_limit();
    }
    match ffi::lua_type(state, idx) {
        ffi::LUA_TSTRING => ScriptReply::Bulk(bytes_at(state, idx).to_vec()),
        ffi::LUA_TBOOLEAN => {
            let b = ffi::lua_toboolean(state, idx) != 0;
            match (resp, b) {
                (2, true) => ScriptReply::Int(1),
                (2, false) => ScriptReply::Nil,
                _ => ScriptReply::Bool(b),
            }
        }
        ffi::LUA_TNUMBER => ScriptReply::Int(lua_number_to_i64(ffi::lua_tonumber(state, idx))),
        ffi::LUA_TTABLE => table_reply_at(state, idx, resp, depth),
        _ => ScriptReply::Nil,
    }
}

fn stack_limit() -> ScriptReply {
    ScriptReply::Error {
        text: "ERR reached lua stack limit".into(),
        counted: false,
    }
}

fn one_line(text: &[u8]) -> String {
    String::from_utf8_lossy(text).replace(['\r', '\n'], " ")
}

unsafe fn table_reply_at(state: *mut lua_State, t: c_int, resp: u8, depth: usize) -> ScriptReply {
    if ffi::lua_checkstack(state, 4) == 0 {
        return stack_limit();
    }
    if let Some(err) = string_field(state, t, b"err") {
        let counted = field(state, t, b"ignore_error_stats_update") == ffi::LUA_TBOOLEAN
            && ffi::lua_toboolean(state, -1) != 0;
        ffi::lua_pop(state, 1);
        return ScriptReply::Error {
            text: String::from_utf8_lossy(&err).into_owned(),
            counted,
        };
    }
    if let Some(ok) = string_field(state, t, b"ok") {
        return ScriptReply::Status(one_line(&ok));
    }
    if field(state, t, b"double") == ffi::LUA_TNUMBER {
        let d = ffi::lua_tonumber(state, -1);
        ffi::lua_pop(state, 1);
        return ScriptReply::Double(d);
    }
    ffi::lua_pop(state, 1);
    if let Some(n) = string_field(state, t, b"big_number") {
        return ScriptReply::BigNumber(one_line(&n));
    }
    if field(state, t, b"verbatim_string") == ffi::LUA_TTABLE {
        let v = ffi::lua_gettop(state);
        let format = string_field(state, v, b"format");
        let text = string_field(state, v, b"string");
        ffi::lua_pop(state, 1);
        if let (Some(format), Some(text)) = (format, text) {
            return ScriptReply::Verbatim {
                format: String::from_utf8_lossy(&format).into_owned(),
                text,
            };
        }
    } else {
        ffi::lua_pop(state, 1);
    }
    if field(state, t, b"map") == ffi::LUA_TTABLE {
        let m = ffi::lua_gettop(state);
        let mut pairs = Vec::new();
        ffi::lua_pushnil(state);
        while ffi::lua_next(state, m) != 0 {
            let top = ffi::lua_gettop(state);
            pairs.push((
                reply_at(state, top - 1, resp, depth + 1),
                reply_at(state, top, resp, depth + 1),
            ));
            ffi::lua_pop(state, 1);
        }
        ffi::lua_pop(state, 1);
        return ScriptReply::Map(pairs);
    }
    ffi::lua_pop(state, 1);
    if field(state, t, b"set") == ffi::LUA_TTABLE {
        let s = ffi::lua_gettop(state);
        let mut items = Vec::new();
        ffi::lua_pushnil(state);
        while ffi::lua_next(state, s) != 0 {
            let top = ffi::lua_gettop(state);
            items.push(reply_at(state, top - 1, resp, depth + 1));
            ffi::lua_pop(state, 1);
        }
        ffi::lua_pop(state, 1);
        return ScriptReply::Set(items);
    }
    ffi::lua_pop(state, 1);
    // An array: items up to the first nil.
    let mut items = Vec::new();
    for i in 1.. {
        if ffi::lua_rawgeti(state, t, i) == ffi::LUA_TNIL {
            ffi::lua_pop(state, 1);
            break;
        }
        let item = reply_at(state, ffi::lua_gettop(state), resp, depth + 1);
        ffi::lua_pop(state, 1);
        let stop = depth + 1 >= MAX_REPLY_DEPTH
            && matches!(&item, ScriptReply::Error { text, .. } if text == "ERR reached lua stack limit");
        items.push(item);
        if stop {
            break;
        }
    }
    ScriptReply::Array(items)
}

/// The reply of a failed run (slot `idx`): the handler's `{err, source,
/// line}` table, or a plain error value.
pub(super) unsafe fn error_reply_at(state: *mut lua_State, idx: c_int, label: &str) -> ScriptReply {
    if ffi::lua_type(state, idx) != ffi::LUA_TTABLE {
        let msg = if ffi::lua_type(state, idx) == ffi::LUA_TSTRING {
            String::from_utf8_lossy(bytes_at(state, idx)).into_owned()
        } else {
            "execution failure".to_string()
        };
        return ScriptReply::Error {
            text: format!(
                "ERR Error running script {label}, {}",
                msg.chars().take(100).collect::<String>()
            ),
            counted: false,
        };
    }
    let text_field = |name: &[u8]| -> Option<String> {
        let value = match field(state, idx, name) {
            ffi::LUA_TSTRING => Some(String::from_utf8_lossy(bytes_at(state, -1)).into_owned()),
            ffi::LUA_TNUMBER => Some(format_g14(ffi::lua_tonumber(state, -1))),
            _ => None,
        };
        ffi::lua_pop(state, 1);
        value
    };
    let mut text = text_field(b"err").unwrap_or_default();
    if let (Some(source), Some(line)) = (text_field(b"source"), text_field(b"line")) {
        text.push_str(&format!(" script: {label}, on {source}:{line}."));
    }
    let counted = field(state, idx, b"ignore_error_stats_update") == ffi::LUA_TBOOLEAN
        && ffi::lua_toboolean(state, -1) != 0;
    ffi::lua_pop(state, 1);
    ScriptReply::Error { text, counted }
}

/// The `redis.call` / `redis.pcall` C closures over `api`.
pub(super) fn call_functions(
    lua: &Lua,
    api: Arc<CallApi>,
) -> mlua::Result<(mlua::Function, mlua::Function)> {
    let ptr = Arc::as_ptr(&api) as *mut std::ffi::c_void;
    // Kept alive by the Lua state (its app data), as long as the closures.
    lua.set_app_data(api);
    let closure = |f: ffi::lua_CFunction| -> mlua::Result<mlua::Function> {
        // SAFETY: pushes one C closure with a light userdata upvalue.
        unsafe {
            lua.exec_raw::<mlua::Function>((), |state| {
                ffi::lua_pushlightuserdata(state, ptr);
                ffi::lua_pushcclosure(state, f, 1);
            })
        }
    };
    Ok((closure(redis_call)?, closure(redis_pcall)?))
}
