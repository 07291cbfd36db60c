//! Time as commands see it: one clock reading per command, not four.
//!
//! A command needs the wall clock (expiry deadlines), the LRU clock (access
//! times) and, for INFO commandstats, its own duration. Reading each of them
//! separately cost four `clock_gettime` calls per GET, 8 % of a pipelined run.
//! Inside a batch (`Batch`, entered by the connection loop around the
//! synchronous execution of every request it parsed) the clock is read once
//! when each command ends: that reading is the command's end time, the next
//! command's start time and the "now" every clock function returns in
//! between. Like Redis's cached `server.mstime`, time does not move during a
//! command. Outside a batch (cron, memcached port, blocked commands woken
//! later, unit tests) every call reads the clock.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy)]
struct Cached {
    /// When the previous command ended (or the batch began).
    at: Instant,
    unix_ms: u64,
    monotonic_ms: u64,
    /// The batch's wall clock minus its monotonic clock, fixed at entry.
    unix_offset_ms: i64,
}

thread_local! {
    static CACHED: Cell<Option<Cached>> = const { Cell::new(None) };
}

/// The origin of `monotonic_ms`.
fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

fn read_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Wall-clock Unix time in milliseconds.
pub fn unix_ms() -> u64 {
    match CACHED.get() {
        Some(c) => c.unix_ms,
        None => read_unix_ms(),
    }
}

/// Milliseconds on a clock that never goes back (the LRU clock).
pub fn monotonic_ms() -> u64 {
    match CACHED.get() {
        Some(c) => c.monotonic_ms,
        None => origin().elapsed().as_millis() as u64,
    }
}

/// The cached time of this thread while a batch runs; cleared on drop.
/// The batch must not await: another task on this thread would see its time.
pub struct Batch(());

impl Batch {
    pub fn enter() -> Batch {
        let at = Instant::now();
        let unix_ms = read_unix_ms();
        let monotonic_ms = at.saturating_duration_since(origin()).as_millis() as u64;
        CACHED.set(Some(Cached {
            at,
            unix_ms,
            monotonic_ms,
            unix_offset_ms: unix_ms as i64 - monotonic_ms as i64,
        }));
        Batch(())
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        CACHED.set(None);
    }
}

/// When a command starts: the cached end of the previous one inside a batch.
pub fn command_start() -> Instant {
    match CACHED.get() {
        Some(c) => c.at,
        None => Instant::now(),
    }
}

/// A command ended: read the clock once, advance the cached time, and return
/// the reading (the command's end).
pub fn command_end() -> Instant {
    let at = Instant::now();
    if let Some(c) = CACHED.get() {
        let monotonic_ms = at.saturating_duration_since(origin()).as_millis() as u64;
        CACHED.set(Some(Cached {
            at,
            unix_ms: (monotonic_ms as i64 + c.unix_offset_ms).max(0) as u64,
            monotonic_ms,
            unix_offset_ms: c.unix_offset_ms,
        }));
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_stands_still_within_a_command_and_moves_between() {
        let batch = Batch::enter();
        let (unix, mono) = (unix_ms(), monotonic_ms());
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!((unix_ms(), monotonic_ms()), (unix, mono));
        let start = command_start();
        let end = command_end();
        assert!(end.duration_since(start).as_millis() >= 20);
        assert!(unix_ms() >= unix + 20 && monotonic_ms() >= mono + 20);
        assert!(
            unix_ms().abs_diff(read_unix_ms()) < 1000,
            "derived wall clock stays near the real one"
        );
        drop(batch);
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(unix_ms() >= unix + 25, "outside a batch the clock is read");
    }
}
