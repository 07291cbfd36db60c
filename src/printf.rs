//! Numbers as C's `printf("%.<p>g")` prints them: Redis replies with `%.17g`
//! (sorted-set scores, Lua doubles) and Lua 5.1 formats with `%.14g`, so both
//! the sorted-set family and the scripting engine print through this one place.

/// C's `%.<precision>g`, with `inf`, `-inf`, `nan`, `-nan` and `-0` as glibc prints them.
pub fn g(d: f64, precision: usize) -> String {
    if d.is_nan() {
        return if d.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.into();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let p = precision.max(1);
    // Fast path for the common case, integral values: below 2^53 every integer
    // is exact; one with at most `p` digits prints as is.
    if d.fract() == 0.0 && d.abs() < 9_007_199_254_740_992.0 {
        let text = itoa::Buffer::new().format(d as i64).to_owned();
        let digits = text.len() - usize::from(d < 0.0);
        if digits <= p {
            return text;
        }
    }
    let sci = format!("{:.*e}", p - 1, d);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let m = trim_fraction(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim_fraction(&format!("{:.*}", decimals, d)).to_string()
    }
}

/// Drops trailing zeros of a fraction, and the point if nothing is left after it.
fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::g;

    #[test]
    fn matches_glibc_printf() {
        // Each expected text is what glibc's printf prints.
        for (d, p, want) in [
            (1.0, 17, "1"),
            (-2.5, 17, "-2.5"),
            (0.1, 17, "0.10000000000000001"),
            (0.1, 14, "0.1"),
            (1e17, 17, "1e+17"),
            (1e16, 17, "10000000000000000"),
            (123456789012346.0, 14, "1.2345678901235e+14"),
            (-9007199254740991.0, 17, "-9007199254740991"),
            (0.0001, 17, "0.0001"),
            (0.00001, 17, "1.0000000000000001e-05"),
            (5e-324, 17, "4.9406564584124654e-324"),
            (-0.0, 17, "-0"),
            (f64::INFINITY, 17, "inf"),
            (f64::NEG_INFINITY, 14, "-inf"),
        ] {
            assert_eq!(g(d, p), want, "%.{p}g of {d:e}");
        }
    }
}
