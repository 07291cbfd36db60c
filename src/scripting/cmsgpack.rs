//! The `cmsgpack` library (lua-cmsgpack's API, as Redis ships it): MessagePack
//! encoding of Lua values. `pack(...)` encodes each argument and concatenates
//! them; `unpack(s)` decodes every value in `s`; `unpack_one(s [, offset])`
//! and `unpack_limit(s, limit [, offset])` decode some and return the next
//! offset first (-1 at the end).
//!
//! Encoding rules, as lua-cmsgpack 0.4: a number that is an exact int64 is an
//! integer (the smallest MessagePack form), else a float32 when exact, else a
//! float64; a table whose keys are exactly 1..n is an array, anything else a
//! map (in `next` order); tables nested 16 deep encode as nil (so circular
//! tables end); functions, userdata and nil are nil. Every function returns
//! `(error or nil, results...)`; the sandbox's wrapper raises the error.

use mlua::{Lua, MultiValue, Table, Value};

/// Tables nested this deep encode as nil (LUACMSGPACK_MAX_NESTING).
const MAX_NESTING: usize = 16;
/// Deepest nesting `unpack` decodes: Redis's Lua runs out of stack slots
/// around here, and a deeper payload must not exhaust the thread's stack.
const MAX_DECODE_DEPTH: usize = 1000;

const TOO_DEEP: &str = "too many return values at once; use unpack_one or unpack_limit instead.";

fn encode_len(out: &mut Vec<u8>, n: usize, fix: u8, fix_max: usize, b16: u8, b32: u8) {
    if n <= fix_max {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(b32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn encode_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len();
    if n < 32 {
        out.push(0xa0 | n as u8);
    } else if n <= 0xff {
        out.extend_from_slice(&[0xd9, n as u8]);
    } else if n <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn encode_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_number(out: &mut Vec<u8>, d: f64) {
    // IS_INT64_EQUIVALENT: not infinite and the int64 cast gives it back.
    if d.is_finite() && (d as i64) as f64 == d && d >= i64::MIN as f64 && d < i64::MAX as f64 {
        encode_int(out, d as i64);
        return;
    }
    let f = d as f32;
    if f as f64 == d {
        out.push(0xca);
        out.extend_from_slice(&f.to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&d.to_be_bytes());
    }
}

/// Whether the table's keys are exactly the integers 1..n.
fn is_array(t: &Table) -> bool {
    let (mut count, mut max) = (0i64, 0i64);
    for (k, _) in t.pairs::<Value, Value>().flatten() {
        let n = match k {
            Value::Number(n) => n,
            Value::Integer(n) => n as f64,
            _ => return false,
        };
        // IS_INT_EQUIVALENT (a C int), and positive.
        if n <= 0.0 || n > i32::MAX as f64 || (n as i32) as f64 != n {
            return false;
        }
        max = max.max(n as i64);
        count += 1;
    }
    max == count
}

fn encode(out: &mut Vec<u8>, v: &Value, level: usize) {
    match v {
        Value::String(s) => encode_bytes(out, &s.as_bytes()),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Number(n) => encode_number(out, *n),
        Value::Integer(n) => encode_int(out, *n),
        Value::Table(t) if level < MAX_NESTING => {
            if is_array(t) {
                let len = t.raw_len();
                encode_len(out, len, 0x90, 15, 0xdc, 0xdd);
                for j in 1..=len {
                    let item = t.raw_get::<Value>(j).unwrap_or(Value::Nil);
                    encode(out, &item, level + 1);
                }
            } else {
                let pairs: Vec<(Value, Value)> = t.pairs::<Value, Value>().flatten().collect();
                encode_len(out, pairs.len(), 0x80, 15, 0xde, 0xdf);
                for (k, v) in &pairs {
                    encode(out, k, level + 1);
                    encode(out, v, level + 1);
                }
            }
        }
        _ => out.push(0xc0),
    }
}

/// Why a decode stopped.
enum DecodeError {
    /// Not enough data (MP_CUR_ERROR_EOF).
    Eof,
    /// An unknown type byte (MP_CUR_ERROR_BADFMT).
    BadFormat,
    /// Nested past MAX_DECODE_DEPTH.
    TooDeep,
    Lua(mlua::Error),
}

impl From<mlua::Error> for DecodeError {
    fn from(e: mlua::Error) -> Self {
        DecodeError::Lua(e)
    }
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// `n` bytes after the type byte, consuming the type byte and them.
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.left() < 1 + n {
            return Err(DecodeError::Eof);
        }
        let s = &self.buf[self.pos + 1..self.pos + 1 + n];
        self.pos += 1 + n;
        Ok(s)
    }

    fn be(&mut self, n: usize) -> Result<u64, DecodeError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// `len` bytes at the cursor (after a header read with `be`).
    fn raw(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        if self.left() < len {
            return Err(DecodeError::Eof);
        }
        let s = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(s)
    }
}

fn decode(lua: &Lua, c: &mut Cursor<'_>, depth: usize) -> Result<Value, DecodeError> {
    if depth > MAX_DECODE_DEPTH {
        return Err(DecodeError::TooDeep);
    }
    let Some(&t) = c.buf.get(c.pos) else {
        return Err(DecodeError::Eof);
    };
    let num = |n: f64| Ok(Value::Number(n));
    match t {
        0xcc => num(c.be(1)? as f64),
        0xd0 => num(c.be(1)? as u8 as i8 as f64),
        0xcd => num(c.be(2)? as f64),
        0xd1 => num(c.be(2)? as u16 as i16 as f64),
        0xce => num(c.be(4)? as f64),
        0xd2 => num(c.be(4)? as u32 as i32 as f64),
        0xcf => num(c.be(8)? as f64),
        0xd3 => num(c.be(8)? as i64 as f64),
        0xc0 => {
            c.pos += 1;
            Ok(Value::Nil)
        }
        0xc3 | 0xc2 => {
            c.pos += 1;
            Ok(Value::Boolean(t == 0xc3))
        }
        0xca => num(f32::from_bits(c.be(4)? as u32) as f64),
        0xcb => num(f64::from_bits(c.be(8)?)),
        0xd9..=0xdb => {
            let header = match t {
                0xd9 => 1,
                0xda => 2,
                _ => 4,
            };
            let len = c.be(header)? as usize;
            let s = c.raw(len)?;
            Ok(Value::String(lua.create_string(s)?))
        }
        0xdc | 0xdd => {
            let len = c.be(if t == 0xdc { 2 } else { 4 })? as usize;
            array(lua, c, len, depth)
        }
        0xde | 0xdf => {
            let len = c.be(if t == 0xde { 2 } else { 4 })? as usize;
            map(lua, c, len, depth)
        }
        _ if t & 0x80 == 0 => {
            c.pos += 1;
            num(f64::from(t))
        }
        _ if t & 0xe0 == 0xe0 => {
            c.pos += 1;
            num(f64::from(t as i8))
        }
        _ if t & 0xe0 == 0xa0 => {
            let len = usize::from(t & 0x1f);
            let s = c.take(len)?;
            Ok(Value::String(lua.create_string(s)?))
        }
        _ if t & 0xf0 == 0x90 => {
            c.pos += 1;
            array(lua, c, usize::from(t & 0xf), depth)
        }
        _ if t & 0xf0 == 0x80 => {
            c.pos += 1;
            map(lua, c, usize::from(t & 0xf), depth)
        }
        _ => Err(DecodeError::BadFormat),
    }
}

fn array(lua: &Lua, c: &mut Cursor<'_>, len: usize, depth: usize) -> Result<Value, DecodeError> {
    // Each element takes at least one byte: a hostile count cannot reserve more.
    let t = lua.create_table_with_capacity(len.min(c.left()), 0)?;
    for i in 1..=len {
        let v = decode(lua, c, depth + 1)?;
        t.raw_set(i, v)?;
    }
    Ok(Value::Table(t))
}

fn map(lua: &Lua, c: &mut Cursor<'_>, len: usize, depth: usize) -> Result<Value, DecodeError> {
    let t = lua.create_table()?;
    for _ in 0..len {
        let k = decode(lua, c, depth + 1)?;
        let v = decode(lua, c, depth + 1)?;
        t.raw_set(k, v)?;
    }
    Ok(Value::Table(t))
}

fn fail(lua: &Lua, text: String) -> mlua::Result<MultiValue> {
    Ok(MultiValue::from_iter([Value::String(
        lua.create_string(text)?,
    )]))
}

/// A Lua value as `luaL_checklstring` reads it (strings, and numbers as text).
fn check_string(v: Option<&Value>, arg: usize, name: &str) -> Result<Vec<u8>, String> {
    match v {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(Value::Number(n)) => Ok(super::format_g14(*n).into_bytes()),
        Some(Value::Integer(n)) => Ok(n.to_string().into_bytes()),
        other => Err(format!(
            "bad argument #{arg} to '{name}' (string expected, got {})",
            type_name(other)
        )),
    }
}

fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None | Some(Value::Nil) => "no value",
        Some(other) => other.type_name(),
    }
}

/// `luaL_optinteger` / `luaL_checkinteger`: a number (or numeric string)
/// truncated, the default when absent (if there is one).
fn integer(v: Option<&Value>, default: Option<i64>, arg: usize, name: &str) -> Result<i64, String> {
    match v {
        None | Some(Value::Nil) if default.is_some() => Ok(default.unwrap_or(0)),
        Some(Value::Number(n)) => Ok(*n as i64),
        Some(Value::Integer(n)) => Ok(*n),
        Some(Value::String(s)) => s
            .to_str()
            .ok()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .map(|f| f as i64)
            .ok_or_else(|| {
                format!("bad argument #{arg} to '{name}' (number expected, got string)")
            }),
        other => Err(format!(
            "bad argument #{arg} to '{name}' (number expected, got {})",
            type_name(other)
        )),
    }
}

/// mp_unpack_full: decode up to `limit` values from `offset` (both 0: all,
/// without the offset result).
fn unpack_full(lua: &Lua, data: &[u8], limit: i64, offset: i64) -> mlua::Result<MultiValue> {
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        return fail(
            lua,
            format!(
                "Invalid request to unpack with offset of {} and limit of {}.",
                offset as i32,
                data.len() as i32
            ),
        );
    }
    if offset as u64 > data.len() as u64 {
        return fail(
            lua,
            format!(
                "Start offset {} greater than input length {}.",
                offset as i32,
                data.len() as i32
            ),
        );
    }
    let limit = if decode_all {
        i64::from(i32::MAX)
    } else {
        limit
    };
    let mut c = Cursor {
        buf: data,
        pos: offset as usize,
    };
    let mut values = vec![Value::Nil];
    let mut count = 0;
    while c.left() > 0 && count < limit {
        match decode(lua, &mut c, 0) {
            Ok(v) => values.push(v),
            Err(DecodeError::Eof) => return fail(lua, "Missing bytes in input.".into()),
            Err(DecodeError::BadFormat) => return fail(lua, "Bad data format in input.".into()),
            Err(DecodeError::TooDeep) => return fail(lua, TOO_DEEP.into()),
            Err(DecodeError::Lua(e)) => return Err(e),
        }
        count += 1;
    }
    if !decode_all {
        let next = if c.left() == 0 { -1.0 } else { c.pos as f64 };
        values.insert(1, Value::Number(next));
    }
    Ok(MultiValue::from_iter(values))
}

pub(super) fn library(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "pack",
        lua.create_function(|lua, args: MultiValue| {
            if args.is_empty() {
                return fail(
                    lua,
                    "bad argument #0 to 'pack' (MessagePack pack needs input.)".into(),
                );
            }
            let mut out = Vec::new();
            for v in args.iter() {
                encode(&mut out, v, 0);
            }
            Ok(MultiValue::from_iter([
                Value::Nil,
                Value::String(lua.create_string(&out)?),
            ]))
        })?,
    )?;
    t.raw_set(
        "unpack",
        lua.create_function(|lua, args: MultiValue| {
            match check_string(args.front(), 1, "unpack") {
                Ok(data) => unpack_full(lua, &data, 0, 0),
                Err(e) => fail(lua, e),
            }
        })?,
    )?;
    t.raw_set(
        "unpack_one",
        lua.create_function(|lua, args: MultiValue| {
            let offset = match integer(args.get(1), Some(0), 2, "unpack_one") {
                Ok(o) => o,
                Err(e) => return fail(lua, e),
            };
            match check_string(args.front(), 1, "unpack_one") {
                Ok(data) => unpack_full(lua, &data, 1, offset),
                Err(e) => fail(lua, e),
            }
        })?,
    )?;
    t.raw_set(
        "unpack_limit",
        lua.create_function(|lua, args: MultiValue| {
            let limit = match integer(args.get(1), None, 2, "unpack_limit") {
                Ok(l) => l,
                Err(e) => return fail(lua, e),
            };
            let offset = match integer(args.get(2), Some(0), 3, "unpack_limit") {
                Ok(o) => o,
                Err(e) => return fail(lua, e),
            };
            match check_string(args.front(), 1, "unpack_limit") {
                Ok(data) => unpack_full(lua, &data, limit, offset),
                Err(e) => fail(lua, e),
            }
        })?,
    )?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(v: &[u8]) -> String {
        v.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn numbers() {
        for (d, expected) in [
            (0.1, "cb3fb999999999999a"),
            (-1099511627776.0, "d3ffffff0000000000"),
            (1.0, "01"),
            (-1.0, "ff"),
            (250.0, "ccfa"),
            (-120.0, "d088"),
            (65530.0, "cdfffa"),
            (-32000.0, "d18300"),
            (100000.0, "ce000186a0"),
            (-3147483648.0, "d3ffffffff44653600"),
            (0.5, "ca3f000000"),
        ] {
            let mut out = Vec::new();
            encode_number(&mut out, d);
            assert_eq!(hex(&out), expected, "{d}");
        }
    }
}
