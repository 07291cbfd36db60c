//! The `bit` library (LuaBitOp's API, as Redis ships it): 32-bit operations
//! on Lua numbers. Every function returns `(error or nil, result)`; the Lua
//! wrapper in the sandbox raises the error.

use mlua::{Lua, MultiValue, Table, Value};

/// A Lua number as LuaBitOp reads it: rounded to an integer, then its low
/// 32 bits as a signed number.
fn tobit(x: f64) -> i32 {
    let r = x.round_ties_even().rem_euclid(4_294_967_296.0);
    if r.is_nan() {
        return 0;
    }
    (r as u64 as u32) as i32
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => Some(*n),
        Value::Integer(n) => Some(*n as f64),
        Value::String(s) => s.to_str().ok()?.trim().parse().ok(),
        _ => None,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "no value",
        other => other.type_name(),
    }
}

/// Argument `i` (0-based) of `name` as an int32, or LuaBitOp's error text.
fn arg(args: &MultiValue, i: usize, name: &str) -> Result<i32, String> {
    let v = args.get(i).cloned().unwrap_or(Value::Nil);
    number(&v).map(tobit).ok_or_else(|| {
        format!(
            "bad argument #{} to '{name}' (number expected, got {})",
            i + 1,
            type_name(&v)
        )
    })
}

type BitResult = (Option<String>, Option<f64>);

fn ok(v: i32) -> mlua::Result<BitResult> {
    Ok((None, Some(v as f64)))
}

fn fail(e: String) -> mlua::Result<BitResult> {
    Ok((Some(e), None))
}

pub(super) fn library(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    macro_rules! unary {
        ($name:literal, $f:expr) => {
            t.raw_set(
                $name,
                lua.create_function(|_, args: MultiValue| match arg(&args, 0, $name) {
                    Ok(x) => ok($f(x)),
                    Err(e) => fail(e),
                })?,
            )?;
        };
    }
    macro_rules! fold {
        ($name:literal, $op:expr) => {
            t.raw_set(
                $name,
                lua.create_function(|_, args: MultiValue| {
                    let mut acc = match arg(&args, 0, $name) {
                        Ok(x) => x,
                        Err(e) => return fail(e),
                    };
                    for i in 1..args.len() {
                        match arg(&args, i, $name) {
                            Ok(x) => acc = $op(acc, x),
                            Err(e) => return fail(e),
                        }
                    }
                    ok(acc)
                })?,
            )?;
        };
    }
    macro_rules! shift {
        ($name:literal, $op:expr) => {
            t.raw_set(
                $name,
                lua.create_function(|_, args: MultiValue| {
                    let x = match arg(&args, 0, $name) {
                        Ok(x) => x,
                        Err(e) => return fail(e),
                    };
                    let n = match arg(&args, 1, $name) {
                        Ok(n) => (n & 31) as u32,
                        Err(e) => return fail(e),
                    };
                    ok($op(x, n))
                })?,
            )?;
        };
    }
    unary!("tobit", |x: i32| x);
    unary!("bnot", |x: i32| !x);
    unary!("bswap", |x: i32| x.swap_bytes());
    fold!("band", |a: i32, b: i32| a & b);
    fold!("bor", |a: i32, b: i32| a | b);
    fold!("bxor", |a: i32, b: i32| a ^ b);
    shift!("lshift", |x: i32, n: u32| ((x as u32) << n) as i32);
    shift!("rshift", |x: i32, n: u32| ((x as u32) >> n) as i32);
    shift!("arshift", |x: i32, n: u32| x >> n);
    shift!("rol", |x: i32, n: u32| (x as u32).rotate_left(n) as i32);
    shift!("ror", |x: i32, n: u32| (x as u32).rotate_right(n) as i32);
    t.raw_set(
        "tohex",
        lua.create_function(|lua, args: MultiValue| {
            let x = match arg(&args, 0, "tohex") {
                Ok(x) => x as u32,
                Err(e) => return Ok((Some(e), None)),
            };
            let n = if args.len() > 1 && !args[1].is_nil() {
                match arg(&args, 1, "tohex") {
                    Ok(n) => n,
                    Err(e) => return Ok((Some(e), None)),
                }
            } else {
                8
            };
            let upper = n < 0;
            let digits = (n.unsigned_abs().min(8)) as usize;
            let full = if upper {
                format!("{x:08X}")
            } else {
                format!("{x:08x}")
            };
            Ok((None, Some(lua.create_string(&full[8 - digits..])?)))
        })?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tobit_wraps() {
        assert_eq!(tobit(1.0), 1);
        assert_eq!(tobit(4294967295.0), -1);
        assert_eq!(tobit(2147483648.0), i32::MIN);
        assert_eq!(tobit(-1.0), -1);
        assert_eq!(tobit(0.5), 0);
        assert_eq!(tobit(1.5), 2);
    }
}
