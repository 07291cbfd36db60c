//! The `struct` library (Roberto Ierusalimschy's lua-struct, as Redis ships
//! it): `pack(fmt, ...)`, `unpack(fmt, s [, pos])` and `size(fmt)` convert
//! between Lua values and C-struct-like binary strings.
//!
//! Format: `<` / `>` little / big endian, `!n` maximum alignment (default 8),
//! `b B h H l L T i[n] I[n]` signed / unsigned integers of 1, 2, 8, 8, n
//! (default 4) bytes, `f` `d` float / double, `c[n]` n chars (`c0` in unpack:
//! size from the previous value), `s` zero-terminated string, `x` one
//! padding byte, spaces ignored. Sizes are x86-64 Linux's, where Redis runs.
//! Every function returns `(error or nil, results...)`.

use mlua::{Lua, MultiValue, Table, Value};

/// Largest integral size (MAXINTSIZE).
const MAX_INT_SIZE: usize = 32;
/// Default and largest alignment: max(padding of a double, sizeof(int)).
const MAX_ALIGN: usize = 8;

struct Header {
    little: bool,
    align: usize,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            little: true,
            align: 1,
        }
    }
}

/// A format string being read.
struct Format<'a> {
    fmt: &'a [u8],
    pos: usize,
    /// The Lua function, for argument errors.
    name: &'static str,
}

impl Format<'_> {
    fn next(&mut self) -> Option<u8> {
        let c = *self.fmt.get(self.pos)?;
        self.pos += 1;
        Some(c)
    }

    /// getnum: digits after an option, or `default`.
    fn number(&mut self, default: usize) -> Result<usize, String> {
        if !self.fmt.get(self.pos).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: usize = 0;
        while let Some(d) = self.fmt.get(self.pos).filter(|d| d.is_ascii_digit()) {
            let digit = usize::from(d - b'0');
            if a > (i32::MAX as usize) / 10 || a * 10 > i32::MAX as usize - digit {
                return Err("integral size overflow".into());
            }
            a = a * 10 + digit;
            self.pos += 1;
        }
        Ok(a)
    }

    /// optsize: the size of option `opt` (0 for options without one).
    fn size(&mut self, opt: u8) -> Result<usize, String> {
        Ok(match opt {
            b'B' | b'b' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'x' => 1,
            b'c' => self.number(1)?,
            b'i' | b'I' => {
                let size = self.number(4)?;
                if size > MAX_INT_SIZE {
                    return Err(format!(
                        "integral size {size} is larger than limit of {MAX_INT_SIZE}"
                    ));
                }
                size
            }
            _ => 0,
        })
    }

    /// controloptions: endianness, alignment, spaces; anything else is an error.
    fn control(&mut self, opt: u8, h: &mut Header) -> Result<(), String> {
        match opt {
            b' ' => Ok(()),
            b'>' => {
                h.little = false;
                Ok(())
            }
            b'<' => {
                h.little = true;
                Ok(())
            }
            b'!' => {
                let a = self.number(MAX_ALIGN)?;
                if a == 0 || a & (a - 1) != 0 {
                    return Err(format!("alignment {a} is not a power of 2"));
                }
                h.align = a;
                Ok(())
            }
            other => Err(format!(
                "bad argument #1 to '{}' (invalid format option '{}')",
                self.name,
                char::from(other)
            )),
        }
    }
}

/// gettoalign: padding before an item of `size` at `len`.
fn to_align(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size - (len & (size - 1))) & (size - 1)
}

fn number_arg(args: &MultiValue, i: usize, name: &str) -> Result<f64, String> {
    // lua-struct's pack pushes a nil after its arguments, so the first
    // missing one reads as nil there rather than "no value".
    if name == "pack" && i == args.len() + 1 {
        return Err(format!(
            "bad argument #{i} to '{name}' (number expected, got nil)"
        ));
    }
    match args.get(i - 1) {
        Some(Value::Number(n)) => Ok(*n),
        Some(Value::Integer(n)) => Ok(*n as f64),
        Some(Value::String(s)) => s
            .to_str()
            .ok()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .ok_or_else(|| format!("bad argument #{i} to '{name}' (number expected, got string)")),
        other => Err(format!(
            "bad argument #{i} to '{name}' (number expected, got {})",
            type_name(other)
        )),
    }
}

fn string_arg(args: &MultiValue, i: usize, name: &str) -> Result<Vec<u8>, String> {
    if name == "pack" && i > 1 && i == args.len() + 1 {
        return Err(format!(
            "bad argument #{i} to '{name}' (string expected, got nil)"
        ));
    }
    match args.get(i - 1) {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(Value::Number(n)) => Ok(super::format_g14(*n).into_bytes()),
        Some(Value::Integer(n)) => Ok(n.to_string().into_bytes()),
        other => Err(format!(
            "bad argument #{i} to '{name}' (string expected, got {})",
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

/// putinteger: the low `size` bytes of the value, in the header's order.
fn put_integer(out: &mut Vec<u8>, n: f64, little: bool, size: usize) {
    let mut value: u64 = if n < 0.0 { n as i64 as u64 } else { n as u64 };
    let mut bytes = vec![0u8; size];
    for b in bytes.iter_mut() {
        *b = (value & 0xff) as u8;
        value >>= 8;
    }
    if !little {
        bytes.reverse();
    }
    out.extend_from_slice(&bytes);
}

fn pack(args: &MultiValue) -> Result<Vec<u8>, String> {
    let fmt = string_arg(args, 1, "pack")?;
    let mut f = Format {
        fmt: &fmt,
        pos: 0,
        name: "pack",
    };
    let mut h = Header::default();
    let mut arg = 2;
    let mut out = Vec::new();
    while let Some(opt) = f.next() {
        let mut size = f.size(opt)?;
        let pad = to_align(out.len(), &h, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = number_arg(args, arg, "pack")?;
                arg += 1;
                put_integer(&mut out, n, h.little, size);
            }
            b'x' => out.push(0),
            b'f' => {
                let v = number_arg(args, arg, "pack")? as f32;
                arg += 1;
                out.extend_from_slice(&if h.little {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                });
            }
            b'd' => {
                let v = number_arg(args, arg, "pack")?;
                arg += 1;
                out.extend_from_slice(&if h.little {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                });
            }
            b'c' | b's' => {
                let s = string_arg(args, arg, "pack")?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    return Err(format!("bad argument #{arg} to 'pack' (string too short)"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            other => f.control(other, &mut h)?,
        }
    }
    Ok(out)
}

/// getinteger: `size` bytes as a number, sign-extended when `signed`.
fn get_integer(bytes: &[u8], little: bool, signed: bool) -> f64 {
    let mut l: u64 = 0;
    let mut push = |b: u8| l = (l << 8) | u64::from(b);
    if little {
        bytes.iter().rev().for_each(|&b| push(b));
    } else {
        bytes.iter().for_each(|&b| push(b));
    }
    if !signed {
        return l as f64;
    }
    let size = bytes.len();
    if size == 0 {
        return 0.0;
    }
    let mask: u64 = if size * 8 > 64 {
        0
    } else {
        u64::MAX << (size * 8 - 1)
    };
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

fn unpack(lua: &Lua, args: &MultiValue) -> Result<Vec<Value>, String> {
    let fmt = string_arg(args, 1, "unpack")?;
    let data = string_arg(args, 2, "unpack")?;
    let pos = match args.get(2) {
        None | Some(Value::Nil) => 1,
        _ => number_arg(args, 3, "unpack")? as i64,
    };
    if pos <= 0 {
        return Err("bad argument #3 to 'unpack' (offset must be 1 or greater)".into());
    }
    let mut pos = (pos - 1) as usize;
    let ld = data.len();
    let mut f = Format {
        fmt: &fmt,
        pos: 0,
        name: "unpack",
    };
    let mut h = Header::default();
    let mut out: Vec<Value> = Vec::new();
    let short = || "bad argument #2 to 'unpack' (data string too short)".to_string();
    let lua_err = |e: mlua::Error| e.to_string();
    while let Some(opt) = f.next() {
        let mut size = f.size(opt)?;
        pos += to_align(pos, &h, opt, size);
        if size > ld || pos > ld - size {
            return Err(short());
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let signed = opt.is_ascii_lowercase();
                out.push(Value::Number(get_integer(
                    &data[pos..pos + size],
                    h.little,
                    signed,
                )));
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[pos..pos + 4]);
                let v = if h.little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                };
                out.push(Value::Number(f64::from(v)));
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                let v = if h.little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                };
                out.push(Value::Number(v));
            }
            b'c' => {
                if size == 0 {
                    let previous = match out.last() {
                        Some(Value::Number(n)) => Some(*n),
                        Some(Value::Integer(n)) => Some(*n as f64),
                        Some(Value::String(s)) => {
                            s.to_str().ok().and_then(|t| t.trim().parse::<f64>().ok())
                        }
                        _ => None,
                    };
                    let Some(n) = previous else {
                        return Err("format 'c0' needs a previous size".into());
                    };
                    out.pop();
                    size = if n < 0.0 { 0 } else { n as usize };
                    if size > ld || pos > ld - size {
                        return Err(short());
                    }
                }
                out.push(Value::String(
                    lua.create_string(&data[pos..pos + size]).map_err(lua_err)?,
                ));
            }
            b's' => {
                let Some(end) = memchr::memchr(0, &data[pos..]) else {
                    return Err("unfinished string in data".into());
                };
                size = end + 1;
                out.push(Value::String(
                    lua.create_string(&data[pos..pos + end]).map_err(lua_err)?,
                ));
            }
            other => f.control(other, &mut h)?,
        }
        pos += size;
    }
    out.push(Value::Number((pos + 1) as f64));
    Ok(out)
}

fn size(args: &MultiValue) -> Result<usize, String> {
    let fmt = string_arg(args, 1, "size")?;
    let mut f = Format {
        fmt: &fmt,
        pos: 0,
        name: "size",
    };
    let mut h = Header::default();
    let mut pos = 0;
    while let Some(opt) = f.next() {
        let size = f.size(opt)?;
        pos += to_align(pos, &h, opt, size);
        if opt == b's' {
            return Err("bad argument #1 to 'size' (option 's' has no fixed size)".into());
        } else if opt == b'c' && size == 0 {
            return Err("bad argument #1 to 'size' (option 'c0' has no fixed size)".into());
        }
        if !opt.is_ascii_alphanumeric() {
            f.control(opt, &mut h)?;
        }
        pos += size;
    }
    Ok(pos)
}

fn results(lua: &Lua, r: Result<Vec<Value>, String>) -> mlua::Result<MultiValue> {
    match r {
        Ok(values) => Ok(MultiValue::from_iter(
            std::iter::once(Value::Nil).chain(values),
        )),
        Err(e) => Ok(MultiValue::from_iter([Value::String(
            lua.create_string(e)?,
        )])),
    }
}

pub(super) fn library(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "pack",
        lua.create_function(|lua, args: MultiValue| {
            let r = pack(&args)
                .and_then(|b| lua.create_string(&b).map_err(|e| e.to_string()))
                .map(|s| vec![Value::String(s)]);
            results(lua, r)
        })?,
    )?;
    t.raw_set(
        "unpack",
        lua.create_function(|lua, args: MultiValue| results(lua, unpack(lua, &args)))?,
    )?;
    t.raw_set(
        "size",
        lua.create_function(|lua, args: MultiValue| {
            results(lua, size(&args).map(|n| vec![Value::Number(n as f64)]))
        })?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(lua: &Lua, items: &[&str]) -> MultiValue {
        MultiValue::from_iter(
            items
                .iter()
                .map(|s| Value::String(lua.create_string(s).unwrap())),
        )
    }

    #[test]
    fn pack_and_size() {
        let lua = Lua::new();
        let packed = pack(&args(&lua, &[">I2", "258"])).unwrap();
        assert_eq!(packed, vec![1, 2]);
        let packed = pack(&args(&lua, &["<i", "-2"])).unwrap();
        assert_eq!(packed, vec![0xfe, 0xff, 0xff, 0xff]);
        assert_eq!(pack(&args(&lua, &["s", "ab"])).unwrap(), b"ab\0");
        assert_eq!(size(&args(&lua, &["!4 b i"])).unwrap(), 8);
        assert_eq!(size(&args(&lua, &["bd"])).unwrap(), 9);
        assert_eq!(size(&args(&lua, &["!bd"])).unwrap(), 16);
        assert_eq!(
            pack(&args(&lua, &["z"])).unwrap_err(),
            "bad argument #1 to 'pack' (invalid format option 'z')"
        );
    }
}
