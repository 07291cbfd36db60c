//! Glob-style pattern matching with the exact semantics of Redis's
//! `stringmatchlen` (`src/util.c`, Redis 7.4), as used by `KEYS`, `SCAN MATCH`,
//! `PSUBSCRIBE`, `CONFIG GET` and friends.
//!
//! Rules (all binary safe):
//! * `*` matches any run of bytes (consecutive stars are collapsed). Note the
//!   Redis quirk: a pattern that *starts* with `*` never matches the empty
//!   string (`"*"` does not match `""`), because the main loop only runs while
//!   both pattern and string are non-empty. (`KEYS *` special-cases the single
//!   `*` pattern itself before ever calling the matcher.)
//! * `?` matches exactly one byte.
//! * `[abc]`, `[^abc]` (negation), `[a-z]` ranges (reversed ranges such as
//!   `[z-a]` are swapped), `\x` inside a class is the literal `x`.
//!   A `]` right after `[` / `[^` closes an empty class. An unterminated class
//!   runs to the end of the pattern and is treated as closed there.
//! * `\x` outside a class matches the literal `x`; a trailing lone `\` matches
//!   a literal backslash.
//! * Byte values are compared as C `char`, which is *signed* on x86-64 (the
//!   platform Redis is normally built and tested on). This only matters for
//!   ranges involving bytes >= 0x80: e.g. `[a-\xff]` is the range `-1..=97`
//!   and so matches `\xff` and `\x00`..=`a`, but not `\x80`.
//! * Case-insensitive mode lowercases with glibc's `tolower` in the "C"
//!   locale, *after* range endpoints have been swapped; escaped bytes inside a
//!   class are still compared case-sensitively (as in Redis).
//! * Recursion depth is limited to 1000 nested `*` levels; deeper nesting
//!   simply fails to match (Redis's protection against abusive patterns).
//! * Once the remainder after some `*` fails to match at every position of the
//!   string, all enclosing `*`s give up immediately (`skipLongerMatches`), so
//!   matching is polynomial rather than exponential.

/// Redis's `nesting > 1000` cut-off.
const MAX_NESTING: u32 = 1000;

/// `pattern[i]` as C would read it: past the end there is the sds NUL
/// terminator. The end of the pattern slice never moves during matching, so
/// this is exactly what Redis observes.
#[inline]
fn byte_at(pattern: &[u8], i: usize) -> u8 {
    pattern.get(i).copied().unwrap_or(0)
}

/// The value of a byte read through a (signed, x86-64) C `char`.
#[inline]
fn c_char(b: u8) -> i32 {
    i32::from(b as i8)
}

/// glibc `tolower()` in the "C" locale, applied to a C `char` value.
/// Negative values other than `EOF` (-1) index the table's upper half and come
/// back as their unsigned counterpart (e.g. -128 -> 128).
#[inline]
fn c_tolower(c: i32) -> i32 {
    match c {
        65..=90 => c + 32,
        -128..=-2 => c + 256,
        _ => c,
    }
}

/// `tolower(a) == tolower(b)` on C chars: equivalent to ASCII case folding.
#[inline]
fn eq_byte(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// Port of `stringmatchlen_impl`. `pi`/`si` are the current offsets into
/// `pattern`/`string` (C's `pattern`/`string` pointers); the C lengths are
/// `pattern.len() - pi` and `string.len() - si`.
fn match_impl(
    pattern: &[u8],
    mut pi: usize,
    string: &[u8],
    mut si: usize,
    nocase: bool,
    skip_longer_matches: &mut bool,
    nesting: u32,
) -> bool {
    // Protection against abusive patterns.
    if nesting > MAX_NESTING {
        return false;
    }

    while pi < pattern.len() && si < string.len() {
        match pattern[pi] {
            b'*' => {
                while byte_at(pattern, pi + 1) == b'*' {
                    pi += 1;
                }
                if pattern.len() - pi == 1 {
                    return true;
                }
                while si < string.len() {
                    if match_impl(
                        pattern,
                        pi + 1,
                        string,
                        si,
                        nocase,
                        skip_longer_matches,
                        nesting + 1,
                    ) {
                        return true;
                    }
                    if *skip_longer_matches {
                        return false;
                    }
                    si += 1;
                }
                // The rest of the pattern matches nowhere in the rest of the
                // string; no enclosing `*` can do better by consuming more.
                *skip_longer_matches = true;
                return false;
            }
            b'?' => {
                si += 1;
            }
            b'[' => {
                let c = string[si];
                pi += 1;
                let negate = byte_at(pattern, pi) == b'^';
                if negate {
                    pi += 1;
                }
                let mut hit = false;
                loop {
                    let plen = pattern.len() - pi;
                    let pc = byte_at(pattern, pi);
                    if pc == b'\\' && plen >= 2 {
                        // Escaped byte: always compared case-sensitively.
                        pi += 1;
                        if pattern[pi] == c {
                            hit = true;
                        }
                    } else if pc == b']' {
                        break;
                    } else if plen == 0 {
                        // Unterminated class: step back onto the last byte so
                        // the common `pi += 1` below lands on the end.
                        pi -= 1;
                        break;
                    } else if plen >= 3 && pattern[pi + 1] == b'-' {
                        let mut start = c_char(pattern[pi]);
                        let mut end = c_char(pattern[pi + 2]);
                        let mut ch = c_char(c);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = c_tolower(start);
                            end = c_tolower(end);
                            ch = c_tolower(ch);
                        }
                        pi += 2;
                        if ch >= start && ch <= end {
                            hit = true;
                        }
                    } else if eq_byte(pc, c, nocase) {
                        hit = true;
                    }
                    pi += 1;
                }
                if negate {
                    hit = !hit;
                }
                if !hit {
                    return false;
                }
                si += 1;
            }
            first => {
                let mut pc = first;
                if pc == b'\\' && pattern.len() - pi >= 2 {
                    pi += 1;
                    pc = pattern[pi];
                }
                if !eq_byte(pc, string[si], nocase) {
                    return false;
                }
                si += 1;
            }
        }
        pi += 1;
        if si == string.len() {
            while byte_at(pattern, pi) == b'*' {
                pi += 1;
            }
            break;
        }
    }
    pi == pattern.len() && si == string.len()
}

/// Redis `stringmatchlen` semantics (util.c, Redis 7.4): binary-safe glob
/// match, case-sensitive.
pub fn glob_match(pattern: &[u8], string: &[u8]) -> bool {
    let mut skip = false;
    match_impl(pattern, 0, string, 0, false, &mut skip, 0)
}

/// Redis `stringmatchlen(..., nocase=1)`: ASCII case-insensitive glob match.
pub(crate) fn glob_match_nocase(pattern: &[u8], string: &[u8]) -> bool {
    let mut skip = false;
    match_impl(pattern, 0, string, 0, true, &mut skip, 0)
}

/// The longest literal prefix every string matched by `pattern` (with
/// [`glob_match`], i.e. case-sensitively) must start with, with escapes
/// resolved, and whether the pattern is entirely literal (contains no special
/// `*`, `?` or `[`). For an entirely literal pattern, `glob_match(p, s)` holds
/// exactly when `s == literal_prefix(p).0`.
///
/// Used to index `PSUBSCRIBE` patterns by prefix; it is conservative: if
/// `glob_match(p, s)` then `s.starts_with(&literal_prefix(p).0)`.
pub fn literal_prefix(pattern: &[u8]) -> (Vec<u8>, bool) {
    let mut prefix = Vec::with_capacity(pattern.len());
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            // `[` is always special in Redis, even when never closed.
            b'*' | b'?' | b'[' => return (prefix, false),
            b'\\' if i + 1 < pattern.len() => {
                prefix.push(pattern[i + 1]);
                i += 2;
            }
            // Includes a trailing lone backslash, which matches itself.
            b => {
                prefix.push(b);
                i += 1;
            }
        }
    }
    (prefix, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::{Duration, Instant};

    fn check_table(table: &[(&[u8], &[u8], bool)], nocase: bool) {
        let mut failures = Vec::new();
        for &(p, s, expected) in table {
            let got = if nocase {
                glob_match_nocase(p, s)
            } else {
                glob_match(p, s)
            };
            if got != expected {
                failures.push(format!(
                    "pattern {:?} string {:?}: expected {expected}, got {got}",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(s)
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn literals_and_empty() {
        check_table(
            &[
                (b"", b"", true),
                (b"", b"a", false),
                (b"a", b"", false),
                (b"abc", b"abc", true),
                (b"abc", b"abd", false),
                (b"abc", b"ab", false),
                (b"ab", b"abc", false),
                (b"ABC", b"abc", false),
                (b"a\x00b", b"a\x00b", true),
                (b"a\x00b", b"a\x00c", false),
                (b"\xff\x80", b"\xff\x80", true),
            ],
            false,
        );
    }

    #[test]
    fn star() {
        check_table(
            &[
                // Redis quirk: a leading star never matches the empty string.
                (b"*", b"", false),
                (b"**", b"", false),
                (b"*", b"a", true),
                (b"*", b"anything at all", true),
                (b"a*", b"a", true),
                (b"a**", b"a", true),
                (b"a*", b"abc", true),
                (b"a*", b"ba", false),
                (b"*a", b"a", true),
                (b"*a", b"bca", true),
                (b"*a", b"ab", false),
                (b"**a", b"ba", true),
                (b"*a*", b"bab", true),
                (b"*a*", b"bbb", false),
                (b"a*b*c", b"abc", true),
                (b"a*b*c", b"axxbyyc", true),
                (b"a*b*c", b"axxbyy", false),
                (b"a*b*c", b"acb", false),
                (b"*a*b", b"xaxb", true),
                (b"*a*b", b"aaaaac", false),
                (b"*ab", b"aab", true),
                (b"*?", b"x", true),
                (b"*?", b"", false),
                (b"a*?", b"a", false),
                (b"a*?", b"ab", true),
                (b"a***b", b"ab", true),
                (b"a*\\*", b"ab*", true),
                (b"a*\\*", b"ab", false),
            ],
            false,
        );
    }

    #[test]
    fn question_mark() {
        check_table(
            &[
                (b"?", b"", false),
                (b"?", b"a", true),
                (b"?", b"\xff", true),
                (b"?", b"ab", false),
                (b"??", b"a", false),
                (b"??", b"ab", true),
                (b"a?c", b"abc", true),
                (b"a?c", b"ac", false),
                (b"a?", b"a", false),
            ],
            false,
        );
    }

    #[test]
    fn classes() {
        check_table(
            &[
                (b"[abc]", b"a", true),
                (b"[abc]", b"c", true),
                (b"[abc]", b"d", false),
                (b"[abc]", b"", false),
                (b"[abc]", b"ab", false),
                (b"x[abc]y", b"xby", true),
                (b"[^abc]", b"d", true),
                (b"[^abc]", b"a", false),
                (b"[^abc]", b"", false),
                (b"[a-c]", b"b", true),
                (b"[a-c]", b"d", false),
                (b"[c-a]", b"b", true), // reversed range is swapped
                (b"[c-a]", b"d", false),
                (b"[^a-c]", b"b", false),
                (b"[^a-c]", b"z", true),
                (b"[a-cx-z]", b"y", true),
                (b"[a-cx-z]", b"m", false),
                (b"[-a]", b"-", true),
                (b"[a-]", b"-", false), // `a-]` is the range ']'..='a', unterminated
                (b"[a-]", b"^", true),
                (b"[a-]", b"]", true),
                (b"[a-]", b"a", true),
                (b"[a-]", b"b", false),
                (b"[a-]x", b"x", true), // ...so the `x` is still inside the class
                (b"[a-]x", b"ax", false),
                (b"[]", b"]", false), // `]` right after `[` closes an empty class
                (b"[]", b"", false),
                (b"[]a]", b"a]", false),
                (b"[^]", b"q", true),
                (b"[^]a", b"qa", true),
                (b"[^]]", b"q]", true),
                (b"[^^]", b"^", false),
                (b"[^^]", b"a", true),
                (b"[a^]", b"^", true),
                (b"[*?]", b"*", true),
                (b"[*?]", b"a", false),
                (b"[[]", b"[", true),
            ],
            false,
        );
    }

    #[test]
    fn escapes() {
        check_table(
            &[
                (b"\\*", b"*", true),
                (b"\\*", b"a", false),
                (b"\\?", b"?", true),
                (b"\\?", b"a", false),
                (b"\\[a]", b"[a]", true),
                (b"\\[a]", b"a", false),
                (b"\\\\", b"\\", true),
                (b"\\a", b"a", true),
                // A trailing lone backslash matches a literal backslash.
                (b"\\", b"\\", true),
                (b"\\", b"", false),
                (b"a\\", b"a\\", true),
                (b"a\\", b"a", false),
                (b"*\\", b"ab\\", true),
                // Escapes inside classes.
                (b"[\\]]", b"]", true),
                (b"[\\]]", b"\\", false),
                (b"[\\^a]", b"^", true),
                (b"[\\^a]", b"b", false),
                (b"[a\\-z]", b"-", true),
                (b"[a\\-z]", b"b", false),
                (b"[a\\-z]", b"z", true),
                (b"[\\\\]", b"\\", true),
                (b"[^\\]]", b"]", false),
                (b"[^\\]]", b"a", true),
                // Backslash as the last byte of an unterminated class is literal.
                (b"[a\\", b"\\", true),
                (b"[a\\", b"a", true),
                (b"[\\", b"\\", true),
                (b"[\\", b"a", false),
                // A range may end in a backslash.
                (b"[Z-\\]", b"[", true),
                (b"[Z-\\]", b"]", false),
            ],
            false,
        );
    }

    #[test]
    fn unterminated_class() {
        check_table(
            &[
                (b"[abc", b"a", true),
                (b"[abc", b"c", true),
                (b"[abc", b"d", false),
                (b"[abc", b"ab", false), // the class swallowed the rest
                (b"[", b"[", false),     // empty class
                (b"[", b"", false),
                (b"[", b"a", false),
                (b"a[", b"a[", false),
                (b"[^", b"x", true), // negated empty class: any single byte
                (b"[^", b"[", true),
                (b"[^", b"", false),
                (b"[^", b"xy", false),
                (b"[^ab", b"c", true),
                (b"[^ab", b"a", false),
                (b"[a-", b"-", true), // too short for a range: literal `a`, `-`
                (b"[a-", b"a", true),
                (b"[a-", b"b", false),
                (b"[a-c", b"b", true),
                (b"*[ab", b"xxb", true),
                (b"*[ab", b"xxc", false),
            ],
            false,
        );
    }

    #[test]
    fn high_bytes_use_signed_char_ranges() {
        check_table(
            &[
                (b"[a-\xff]", b"\xff", true), // range -1..=97
                (b"[a-\xff]", b"\x00", true),
                (b"[a-\xff]", b"a", true),
                (b"[a-\xff]", b"b", false),
                (b"[a-\xff]", b"\x80", false),
                (b"[\x80-\xff]", b"\x90", true),
                (b"[\x80-\xff]", b"a", false),
                (b"[\x00-\x7f]", b"\x80", false),
                (b"[\x00-\x7f]", b"\x7f", true),
                (b"[\x7f-\x80]", b"\x00", true), // range -128..=127: everything
                (b"[\x7f-\x80]", b"\xc3", true),
                (b"[\xc3]", b"\xc3", true),
                (b"[^\xc3]", b"\xc3", false),
            ],
            false,
        );
    }

    #[test]
    fn nocase() {
        check_table(
            &[
                (b"HELLO", b"hello", true),
                (b"hello", b"HeLLo", true),
                (b"h?llo", b"HXLLO", true),
                (b"h*O", b"hello", true),
                (b"[A-Z]", b"q", true),
                (b"[a-z]", b"Q", true),
                (b"[abc]", b"B", true),
                (b"[^abc]", b"B", false),
                (b"\\A", b"a", true), // escaped literal outside a class: nocase
                (b"[\\A]", b"a", false), // escaped byte inside a class: exact
                (b"[\\A]", b"A", true),
                // Endpoints are lowercased after swapping, so `[A-z]` becomes
                // a..z and loses the punctuation between 'Z' and 'a'.
                (b"[A-z]", b"_", false),
                (b"[A-z]", b"M", true),
                (b"[Z-a]", b"_", false), // z..a: empty
                (b"[Z-a]", b"Z", false),
                // glibc tolower maps negative chars (except EOF) to 128..=254.
                // -2..=97 becomes 254..=97: empty. (-1 is EOF and stays -1.)
                (b"[a-\xfe]", b"\xfe", false),
                (b"[a-\xfe]", b"a", false),
                (b"[a-\xff]", b"\xff", true),
                (b"[a-\xff]", b"a", true),
                (b"[a-\xff]", b"\x80", false), // 128 after tolower
                (b"[\x80-\xfe]", b"\x90", true),
                (b"\xe9", b"\xc9", false), // no Latin-1 folding
                (b"\xff", b"\xff", true),
            ],
            true,
        );
        // ...whereas the same cases are different case-sensitively.
        check_table(
            &[
                (b"HELLO", b"hello", false),
                (b"[A-z]", b"_", true),
                (b"[Z-a]", b"_", true),
                (b"\\A", b"a", false),
                (b"[a-\xfe]", b"\xfe", true),
                (b"[a-\xfe]", b"a", true),
            ],
            false,
        );
    }

    #[test]
    fn nesting_limit() {
        let pat = |n: usize| b"*a".repeat(n);
        let s = |n: usize| b"a".repeat(n);
        // The k-th star's recursion runs at nesting level k; 1000 is allowed.
        assert!(glob_match(&pat(1000), &s(1000)));
        assert!(glob_match(&pat(1000), &s(1001)));
        assert!(glob_match(&pat(1000), &s(3000)));
        // One more level simply fails to match, though a naive glob would.
        assert!(!glob_match(&pat(1001), &s(1001)));
        assert!(!glob_match(&pat(1001), &s(3000)));
        assert!(!glob_match_nocase(&pat(1001), &s(1001)));
        // Collapsed stars do not count as nesting.
        let mut many_stars = b"*".repeat(5000);
        many_stars.push(b'a');
        assert!(glob_match(&many_stars, b"bbba"));
    }

    fn assert_fast(pattern: &[u8], string: &[u8], expected: bool) {
        let start = Instant::now();
        assert_eq!(glob_match(pattern, string), expected);
        assert_eq!(glob_match_nocase(pattern, string), expected);
        let elapsed = start.elapsed();
        assert!(
            elapsed < Duration::from_secs(2),
            "pattern of len {} took {elapsed:?}",
            pattern.len()
        );
    }

    #[test]
    fn abusive_patterns_are_fast_and_do_not_overflow() {
        // 5000 stars then `a` against a long non-matching string.
        let mut p = b"*".repeat(5000);
        p.push(b'a');
        assert_fast(&p, &b"b".repeat(100_000), false);

        // Deeply nested distinct stars.
        let mut p = b"*a".repeat(5000);
        p.push(b'b');
        assert_fast(&p, &b"a".repeat(20_000), false);
        assert_fast(&b"*?".repeat(5000), &b"x".repeat(20_000), false);
        assert_fast(&b"?*".repeat(5000), &b"x".repeat(4_000), false);

        // The classic exponential case for naive backtracking.
        let mut p = b"a*".repeat(30);
        p.push(b'b');
        assert_fast(&p, &b"a".repeat(5_000), false);

        // Long patterns without stars, unterminated classes etc.
        assert_fast(&b"[".repeat(100_000), b"[", true);
        assert_fast(&b"[".repeat(100_000), b"a", false);
        assert_fast(
            &b"\\".repeat(100_001),
            b"\\".repeat(50_001).as_slice(),
            true,
        );
    }

    #[test]
    fn literal_prefix_table() {
        let table: &[(&[u8], &[u8], bool)] = &[
            (b"", b"", true),
            (b"abc", b"abc", true),
            (b"news.*", b"news.", false),
            (b"news.?", b"news.", false),
            (b"news.[ab]", b"news.", false),
            (b"[", b"", false),
            (b"a\\*b", b"a*b", true),
            (b"a\\*b*", b"a*b", false),
            (b"a\\[b]", b"a[b]", true),
            (b"a\\", b"a\\", true),
            (b"\\\\*", b"\\", false),
            (b"a]b^c-", b"a]b^c-", true),
            (b"\xff\x80*", b"\xff\x80", false),
        ];
        for &(p, prefix, literal) in table {
            assert_eq!(
                literal_prefix(p),
                (prefix.to_vec(), literal),
                "pattern {:?}",
                String::from_utf8_lossy(p)
            );
        }
    }

    const ALPHABET: &[u8] = b"abc-\\[]^*?\xff\x80";

    /// Every pattern of length <= 4 over a small alphabet against every string
    /// of length <= 3 over the same alphabet: `literal_prefix` is conservative
    /// and exact for literal patterns.
    #[test]
    fn literal_prefix_exhaustive_small() {
        fn all_words(alphabet: &[u8], max_len: usize) -> Vec<Vec<u8>> {
            let mut out = vec![Vec::new()];
            let mut frontier = vec![Vec::new()];
            for _ in 0..max_len {
                let mut next = Vec::new();
                for w in &frontier {
                    for &b in alphabet {
                        let mut w2: Vec<u8> = w.clone();
                        w2.push(b);
                        next.push(w2);
                    }
                }
                out.extend(next.iter().cloned());
                frontier = next;
            }
            out
        }
        let patterns = all_words(b"ab-\\[]^*?", 4);
        let strings = all_words(b"ab-\\[]^", 3);
        for p in &patterns {
            let (prefix, literal) = literal_prefix(p);
            for s in &strings {
                let m = glob_match(p, s);
                if m {
                    assert!(
                        s.starts_with(&prefix),
                        "pattern {:?} matched {:?} without prefix {:?}",
                        String::from_utf8_lossy(p),
                        String::from_utf8_lossy(s),
                        String::from_utf8_lossy(&prefix)
                    );
                }
                if literal {
                    assert_eq!(m, *s == prefix, "literal pattern {p:?} vs {s:?}");
                }
                if glob_match_nocase(p, s) {
                    // Nothing in this alphabet has case, so nocase agrees.
                    assert!(m);
                }
            }
        }
    }

    fn word(max: usize) -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(prop::sample::select(ALPHABET), 0..max)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn literal_prefix_is_conservative(p in word(14), s in word(14)) {
            let (prefix, literal) = literal_prefix(&p);
            let m = glob_match(&p, &s);
            if m {
                prop_assert!(s.starts_with(&prefix));
            }
            if literal {
                prop_assert_eq!(m, s == prefix);
            }
        }

        /// Strings built from the prefix exercise the matching side more often.
        #[test]
        fn literal_prefix_conservative_near_prefix(p in word(14), tail in word(6), cut in 0usize..4) {
            let (prefix, literal) = literal_prefix(&p);
            let mut s = prefix.clone();
            s.truncate(s.len().saturating_sub(cut));
            s.extend_from_slice(&tail);
            let m = glob_match(&p, &s);
            if m {
                prop_assert!(s.starts_with(&prefix));
            }
            if literal {
                prop_assert_eq!(m, s == prefix);
            }
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(
            p in prop::collection::vec(any::<u8>(), 0..24),
            s in prop::collection::vec(any::<u8>(), 0..24),
        ) {
            let m = glob_match(&p, &s);
            let mi = glob_match_nocase(&p, &s);
            let (prefix, literal) = literal_prefix(&p);
            if m {
                prop_assert!(s.starts_with(&prefix));
            }
            if literal {
                prop_assert_eq!(m, s == prefix);
            }
            if !p.iter().any(u8::is_ascii_alphabetic) && !s.iter().any(u8::is_ascii_alphabetic)
                && !p.iter().any(|&b| b >= 0x80) {
                // Without letters or high bytes, case folding is irrelevant.
                prop_assert_eq!(m, mi);
            }
        }
    }
}
