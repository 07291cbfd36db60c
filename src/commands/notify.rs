//! Keyspace notifications (`notify-keyspace-events`), as Redis's notify.c.
//!
//! A write command calls `notify(ctx-or-shared, db, class, event, key)` after it
//! changed `key`. If the event's class is enabled, herald publishes
//! `__keyspace@<db>__:<key>` with the event name as payload (flag K) and/or
//! `__keyevent@<db>__:<event>` with the key as payload (flag E).

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use super::Shared;
use crate::keyspace_events::EventClass;
use crate::store::KeyspaceListener;

/// The enabled classes, read on every write.
#[derive(Default)]
pub(crate) struct NotifyConfig {
    pub(crate) bits: AtomicU32,
}

/// Publish a keyspace event for `key` in database `db`, if `class` is enabled.
pub(crate) fn notify(shared: &Shared, db: usize, class: EventClass, event: &str, key: &[u8]) {
    let bits = shared.notify.bits.load(Relaxed);
    if bits & class.bits() == 0
        || bits & (EventClass::KEYSPACE.bits() | EventClass::KEYEVENT.bits()) == 0
    {
        return;
    }
    let now = shared.uptime_ms();
    if bits & EventClass::KEYSPACE.bits() != 0 {
        let mut channel = format!("__keyspace@{db}__:").into_bytes();
        channel.extend_from_slice(key);
        shared.pubsub.publish(&channel, event.as_bytes(), now);
    }
    if bits & EventClass::KEYEVENT.bits() != 0 {
        let channel = format!("__keyevent@{db}__:{event}");
        shared.pubsub.publish(channel.as_bytes(), key, now);
    }
}

/// Publishes `expired` and `evicted` events for keys the store removes itself.
pub(crate) struct StoreEvents(pub std::sync::Weak<Shared>);

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
