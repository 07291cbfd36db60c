//! The `notify-keyspace-events` flag codec: event classes and their letters.
//! A leaf module, so `config` can parse the setting without knowing the
//! commands that publish the events (`commands::notify`).

/// Event classes, one bit each, with their `notify-keyspace-events` letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EventClass(u32);

impl EventClass {
    /// The class's bit in the `notify-keyspace-events` bit set.
    pub(crate) const fn bits(self) -> u32 {
        self.0
    }

    pub(crate) const KEYSPACE: EventClass = EventClass(1 << 0); // K
    pub(crate) const KEYEVENT: EventClass = EventClass(1 << 1); // E
    pub(crate) const GENERIC: EventClass = EventClass(1 << 2); // g
    pub(crate) const STRING: EventClass = EventClass(1 << 3); // $
    pub(crate) const LIST: EventClass = EventClass(1 << 4); // l
    pub(crate) const SET: EventClass = EventClass(1 << 5); // s
    pub(crate) const HASH: EventClass = EventClass(1 << 6); // h
    pub(crate) const ZSET: EventClass = EventClass(1 << 7); // z
    pub(crate) const EXPIRED: EventClass = EventClass(1 << 8); // x
    pub(crate) const EVICTED: EventClass = EventClass(1 << 9); // e
    pub(crate) const STREAM: EventClass = EventClass(1 << 10); // t
    pub(crate) const KEY_MISS: EventClass = EventClass(1 << 11); // m
    pub(crate) const MODULE: EventClass = EventClass(1 << 12); // d
    pub(crate) const NEW_KEY: EventClass = EventClass(1 << 13); // n

    const LETTERS: [(char, EventClass); 14] = [
        ('g', EventClass::GENERIC),
        ('$', EventClass::STRING),
        ('l', EventClass::LIST),
        ('s', EventClass::SET),
        ('h', EventClass::HASH),
        ('z', EventClass::ZSET),
        ('x', EventClass::EXPIRED),
        ('e', EventClass::EVICTED),
        ('t', EventClass::STREAM),
        ('m', EventClass::KEY_MISS),
        ('d', EventClass::MODULE),
        ('n', EventClass::NEW_KEY),
        ('K', EventClass::KEYSPACE),
        ('E', EventClass::KEYEVENT),
    ];
    /// `A`: every class but m and n.
    const ALL: u32 = (1 << 2)
        | (1 << 3)
        | (1 << 4)
        | (1 << 5)
        | (1 << 6)
        | (1 << 7)
        | (1 << 8)
        | (1 << 9)
        | (1 << 10)
        | (1 << 12);
}

/// Parse the `notify-keyspace-events` string into bits (keyspaceEventsStringToFlags).
pub(crate) fn parse_flags(s: &str) -> Result<u32, String> {
    let mut bits = 0;
    for c in s.chars() {
        if c == 'A' {
            bits |= EventClass::ALL;
            continue;
        }
        match EventClass::LETTERS.iter().find(|(l, _)| *l == c) {
            Some((_, class)) => bits |= class.0,
            None => return Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into()),
        }
    }
    Ok(bits)
}

/// Render bits back as Redis does (keyspaceEventsFlagsToString).
pub(crate) fn render_flags(bits: u32) -> String {
    let mut out = String::new();
    if bits & EventClass::ALL == EventClass::ALL {
        out.push('A');
    }
    for (letter, class) in EventClass::LETTERS {
        let covered_by_a =
            bits & EventClass::ALL == EventClass::ALL && class.0 & EventClass::ALL != 0;
        if bits & class.0 != 0 && !covered_by_a {
            out.push(letter);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_and_render_like_redis() {
        assert_eq!(render_flags(parse_flags("KEA").unwrap()), "AKE");
        assert_eq!(render_flags(parse_flags("Kx$").unwrap()), "$xK");
        assert_eq!(render_flags(parse_flags("").unwrap()), "");
        assert_eq!(render_flags(parse_flags("Egn").unwrap()), "gnE");
        assert!(parse_flags("Kq").is_err());
    }
}
