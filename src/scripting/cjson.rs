//! The `cjson` library (lua-cjson's API, as Redis ships it): `encode`,
//! `decode`, `null` and the settings functions. Functions return
//! `(error or nil, result)`; the sandbox's wrapper raises the error.

use std::sync::Arc;

use mlua::{LightUserData, Lua, MultiValue, Table, Value};
use parking_lot::Mutex;

struct Settings {
    encode_max_depth: usize,
    decode_max_depth: usize,
    encode_invalid_numbers: bool,
    precision: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: false,
            precision: 14,
        }
    }
}

fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

fn encode(v: &Value, s: &Settings, depth: usize, out: &mut Vec<u8>) -> Result<(), String> {
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::Number(n) => {
            if !n.is_finite() && !s.encode_invalid_numbers {
                return Err("Cannot serialise number: must not be NaN or Inf".into());
            }
            let text = if n.is_nan() {
                "nan".to_string()
            } else {
                super::format_g(*n, s.precision)
            };
            out.extend_from_slice(text.as_bytes());
        }
        Value::String(st) => string(&st.as_bytes(), out),
        Value::Table(t) => {
            if depth >= s.encode_max_depth {
                return Err(format!(
                    "Cannot serialise, excessive nesting ({})",
                    depth + 1
                ));
            }
            // An array when every key is a positive integer.
            let mut max = 0usize;
            let mut count = 0usize;
            let mut array = true;
            for (k, _) in t.pairs::<Value, Value>().flatten() {
                count += 1;
                match k {
                    Value::Number(n) if n >= 1.0 && n.fract() == 0.0 => max = max.max(n as usize),
                    Value::Integer(n) if n >= 1 => max = max.max(n as usize),
                    _ => {
                        array = false;
                        break;
                    }
                }
            }
            if array && count > 0 {
                if max > count * 2 && max > 10 {
                    return Err("Cannot serialise table: excessively sparse array".into());
                }
                out.push(b'[');
                for i in 1..=max {
                    if i > 1 {
                        out.push(b',');
                    }
                    let item: Value = t.raw_get(i).unwrap_or(Value::Nil);
                    encode(&item, s, depth + 1, out)?;
                }
                out.push(b']');
            } else {
                out.push(b'{');
                let mut first = true;
                for (k, val) in t.pairs::<Value, Value>().flatten() {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    match &k {
                        Value::String(ks) => string(&ks.as_bytes(), out),
                        Value::Number(n) => {
                            string(super::format_g(*n, s.precision).as_bytes(), out)
                        }
                        Value::Integer(n) => string(n.to_string().as_bytes(), out),
                        _ => {
                            return Err(
                                "Cannot serialise table: table key must be a number or string"
                                    .into(),
                            )
                        }
                    }
                    out.push(b':');
                    encode(&val, s, depth + 1, out)?;
                }
                out.push(b'}');
            }
        }
        other => {
            return Err(format!(
                "Cannot serialise {}: type not supported",
                other.type_name()
            ))
        }
    }
    Ok(())
}

fn string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b if b < 0x20 || b == 0x7f => out.extend_from_slice(format!("\\u{:04x}", b).as_bytes()),
            b => out.push(b),
        }
    }
    out.push(b'"');
}

struct Decoder<'a> {
    lua: &'a Lua,
    s: &'a [u8],
    pos: usize,
    max_depth: usize,
}

impl Decoder<'_> {
    fn ws(&mut self) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        let found = if self.pos >= self.s.len() {
            "T_END".to_string()
        } else {
            "invalid token".to_string()
        };
        Err(format!(
            "Expected {what} but found {found} at character {}",
            self.pos + 1
        ))
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        self.ws();
        let Some(&c) = self.s.get(self.pos) else {
            return self.err("value");
        };
        match c {
            b'{' | b'[' => {
                if depth >= self.max_depth {
                    return Err(format!(
                        "Found too many nested data structures ({}) at character {}",
                        depth + 1,
                        self.pos + 1
                    ));
                }
                self.pos += 1;
                let t = self.lua.create_table().map_err(|e| e.to_string())?;
                let close = if c == b'{' { b'}' } else { b']' };
                self.ws();
                if self.s.get(self.pos) == Some(&close) {
                    self.pos += 1;
                    return Ok(Value::Table(t));
                }
                let mut i = 1;
                loop {
                    if c == b'{' {
                        self.ws();
                        if self.s.get(self.pos) != Some(&b'"') {
                            return self.err("object key string");
                        }
                        let k = self.value(depth + 1)?;
                        self.ws();
                        if self.s.get(self.pos) != Some(&b':') {
                            return self.err("colon");
                        }
                        self.pos += 1;
                        let v = self.value(depth + 1)?;
                        t.raw_set(k, v).map_err(|e| e.to_string())?;
                    } else {
                        let v = self.value(depth + 1)?;
                        t.raw_set(i, v).map_err(|e| e.to_string())?;
                        i += 1;
                    }
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(&x) if x == close => {
                            self.pos += 1;
                            return Ok(Value::Table(t));
                        }
                        _ => {
                            return self.err(if c == b'{' {
                                "comma or object end"
                            } else {
                                "comma or array end"
                            })
                        }
                    }
                }
            }
            b'"' => {
                self.pos += 1;
                let mut out = Vec::new();
                loop {
                    let Some(&b) = self.s.get(self.pos) else {
                        return self.err("string end");
                    };
                    self.pos += 1;
                    match b {
                        b'"' => break,
                        b'\\' => {
                            let Some(&e) = self.s.get(self.pos) else {
                                return self.err("escape");
                            };
                            self.pos += 1;
                            match e {
                                b'n' => out.push(b'\n'),
                                b'r' => out.push(b'\r'),
                                b't' => out.push(b'\t'),
                                b'b' => out.push(0x08),
                                b'f' => out.push(0x0c),
                                b'u' => {
                                    let hex = self
                                        .s
                                        .get(self.pos..self.pos + 4)
                                        .and_then(|h| std::str::from_utf8(h).ok())
                                        .and_then(|h| u32::from_str_radix(h, 16).ok());
                                    let Some(mut cp) = hex else {
                                        return self.err("unicode escape");
                                    };
                                    self.pos += 4;
                                    if (0xD800..0xDC00).contains(&cp)
                                        && self.s.get(self.pos..self.pos + 2) == Some(b"\\u")
                                    {
                                        if let Some(lo) = self
                                            .s
                                            .get(self.pos + 2..self.pos + 6)
                                            .and_then(|h| std::str::from_utf8(h).ok())
                                            .and_then(|h| u32::from_str_radix(h, 16).ok())
                                        {
                                            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                            self.pos += 6;
                                        }
                                    }
                                    let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                                    let mut buf = [0u8; 4];
                                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                                }
                                other => out.push(other),
                            }
                        }
                        b => out.push(b),
                    }
                }
                Ok(Value::String(
                    self.lua.create_string(&out).map_err(|e| e.to_string())?,
                ))
            }
            b't' if self.s[self.pos..].starts_with(b"true") => {
                self.pos += 4;
                Ok(Value::Boolean(true))
            }
            b'f' if self.s[self.pos..].starts_with(b"false") => {
                self.pos += 5;
                Ok(Value::Boolean(false))
            }
            b'n' if self.s[self.pos..].starts_with(b"null") => {
                self.pos += 4;
                Ok(null())
            }
            _ => {
                let start = self.pos;
                while self.pos < self.s.len()
                    && matches!(self.s[self.pos], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E' | b'x' | b'X' | b'a'..=b'd' | b'f' | b'A'..=b'D' | b'F' | b'i' | b'n' | b'I' | b'N')
                {
                    self.pos += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("");
                let n = text.parse::<f64>().ok().or_else(|| {
                    let (neg, t) = match text.strip_prefix('-') {
                        Some(t) => (true, t),
                        None => (false, text),
                    };
                    let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X"))?;
                    let v = u64::from_str_radix(t, 16).ok()? as f64;
                    Some(if neg { -v } else { v })
                });
                match n {
                    Some(n) if !text.is_empty() => Ok(Value::Number(n)),
                    _ => {
                        self.pos = start;
                        self.err("value")
                    }
                }
            }
        }
    }
}

pub(super) fn library(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let settings = Arc::new(Mutex::new(Settings::default()));
    let s = settings.clone();
    t.raw_set(
        "encode",
        lua.create_function(move |lua, args: MultiValue| {
            if args.len() != 1 {
                return Ok((
                    Some("bad argument #1 to 'encode' (expected 1 argument)".to_string()),
                    None,
                ));
            }
            let mut out = Vec::new();
            match encode(&args[0], &s.lock(), 0, &mut out) {
                Ok(()) => Ok((None, Some(lua.create_string(&out)?))),
                Err(e) => Ok((Some(e), None)),
            }
        })?,
    )?;
    let s = settings.clone();
    t.raw_set(
        "decode",
        lua.create_function(move |lua, args: MultiValue| {
            let text = match args.front() {
                Some(Value::String(st)) if args.len() == 1 => st.as_bytes().to_vec(),
                _ => {
                    return Ok((
                        Some("bad argument #1 to 'decode' (expected 1 argument)".to_string()),
                        Value::Nil,
                    ))
                }
            };
            let mut d = Decoder {
                lua,
                s: &text,
                pos: 0,
                max_depth: s.lock().decode_max_depth,
            };
            let v = match d.value(0) {
                Ok(v) => v,
                Err(e) => return Ok((Some(e), Value::Nil)),
            };
            d.ws();
            if d.pos < text.len() {
                return Ok((d.err::<()>("the end").err(), Value::Nil));
            }
            Ok((None, v))
        })?,
    )?;
    t.raw_set("null", null())?;
    let s = settings.clone();
    t.raw_set(
        "encode_max_depth",
        lua.create_function(move |_, n: Option<f64>| {
            if let Some(n) = n {
                s.lock().encode_max_depth = n.max(1.0) as usize;
            }
            Ok((None::<String>, s.lock().encode_max_depth as f64))
        })?,
    )?;
    let s = settings.clone();
    t.raw_set(
        "decode_max_depth",
        lua.create_function(move |_, n: Option<f64>| {
            if let Some(n) = n {
                s.lock().decode_max_depth = n.max(1.0) as usize;
            }
            Ok((None::<String>, s.lock().decode_max_depth as f64))
        })?,
    )?;
    let s = settings.clone();
    t.raw_set(
        "encode_invalid_numbers",
        lua.create_function(move |_, v: Option<Value>| {
            if let Some(v) = v {
                s.lock().encode_invalid_numbers = !matches!(v, Value::Boolean(false) | Value::Nil);
            }
            Ok((None::<String>, s.lock().encode_invalid_numbers))
        })?,
    )?;
    let s = settings.clone();
    t.raw_set(
        "encode_number_precision",
        lua.create_function(move |_, n: Option<f64>| {
            if let Some(n) = n {
                s.lock().precision = (n as usize).clamp(1, 14);
            }
            Ok((None::<String>, s.lock().precision as f64))
        })?,
    )?;
    for name in [
        "encode_keep_buffer",
        "decode_invalid_numbers",
        "encode_sparse_array",
    ] {
        t.raw_set(
            name,
            lua.create_function(|_, _: MultiValue| Ok((None::<String>, true)))?,
        )?;
    }
    Ok(t)
}
