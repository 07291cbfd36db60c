//! Keyspace notifications (`notify-keyspace-events`), as Redis's notify.c.
//!
//! A write command calls `notify(ctx-or-shared, db, class, event, key)` after it
//! changed `key`. If the event's class is enabled, herald publishes
//! `__keyspace@<db>__:<key>` with the event name as payload (flag K) and/or
//! `__keyevent@<db>__:<event>` with the key as payload (flag E).

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use crate::shared::Shared;
use crate::store::KeyspaceListener;

/// Event classes, one bit each, with their `notify-keyspace-events` letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventClass(u32);

impl EventClass {
    pub const KEYSPACE: EventClass = EventClass(1 << 0); // K
    pub const KEYEVENT: EventClass = EventClass(1 << 1); // E
    pub const GENERIC: EventClass = EventClass(1 << 2); // g
    pub const STRING: EventClass = EventClass(1 << 3); // $
    pub const LIST: EventClass = EventClass(1 << 4); // l
    pub const SET: EventClass = EventClass(1 << 5); // s
    pub const HASH: EventClass = EventClass(1 << 6); // h
    pub const ZSET: EventClass = EventClass(1 << 7); // z
    pub const EXPIRED: EventClass = EventClass(1 << 8); // x
    pub const EVICTED: EventClass = EventClass(1 << 9); // e
    pub const STREAM: EventClass = EventClass(1 << 10); // t
    pub const KEY_MISS: EventClass = EventClass(1 << 11); // m
    pub const MODULE: EventClass = EventClass(1 << 12); // d
    pub const NEW_KEY: EventClass = EventClass(1 << 13); // n

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
pub fn parse_flags(s: &str) -> Result<u32, String> {
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
pub fn render_flags(bits: u32) -> String {
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

/// The enabled classes, read on every write.
#[derive(Default)]
pub struct NotifyConfig {
    pub bits: AtomicU32,
}

/// Publish a keyspace event for `key` in database `db`, if `class` is enabled.
pub fn notify(shared: &Shared, db: usize, class: EventClass, event: &str, key: &[u8]) {
    let bits = shared.notify.bits.load(Relaxed);
    if bits & class.0 == 0 || bits & (EventClass::KEYSPACE.0 | EventClass::KEYEVENT.0) == 0 {
        return;
    }
    let now = shared.uptime_ms();
    if bits & EventClass::KEYSPACE.0 != 0 {
        let mut channel = format!("__keyspace@{db}__:").into_bytes();
        channel.extend_from_slice(key);
        shared.pubsub.publish(&channel, event.as_bytes(), now);
    }
    if bits & EventClass::KEYEVENT.0 != 0 {
        let channel = format!("__keyevent@{db}__:{event}");
        shared.pubsub.publish(channel.as_bytes(), key, now);
    }
}

/// Publishes `expired` and `evicted` events for keys the store removes itself.
pub struct StoreEvents(pub std::sync::Weak<Shared>);

impl KeyspaceListener for StoreEvents {
    fn expired(&self, db: usize, key: &[u8]) {
        if let Some(shared) = self.0.upgrade() {
            notify(&shared, db, EventClass::EXPIRED, "expired", key);
        }
    }

    fn evicted(&self, db: usize, key: &[u8]) {
        if let Some(shared) = self.0.upgrade() {
            notify(&shared, db, EventClass::EVICTED, "evicted", key);
        }
    }
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
