//! The channel and pattern registry, and PUBLISH fan-out.
//!
//! Rules (Redis `pubsub.c`):
//! - PUBLISH delivers to every exact-channel subscriber first, then to every
//!   client of every matching pattern; a client matched several ways receives
//!   (and is counted for) each. The reply is the number of deliveries.
//! - SPUBLISH goes to shard-channel subscribers only; shard pub/sub ignores patterns.
//! - Pub/sub ignores the selected database.
//!
//! Fan-out: each message frame is encoded once per protocol version the
//! receivers use (`protocol::resp::MessageFrames`: the registry carries bytes,
//! the protocol layer encodes them) and the same `Bytes` is queued in every
//! receiver's outbox; each receiver's connection writes its queue in one go.
//! Queued bytes are counted per client and a client over the hard limit of
//! `client-output-buffer-limit pubsub` is disconnected at once (the soft limit
//! is checked by the cron), so a stalled subscriber cannot grow the server.
//!
//! Locking rule: channel maps are sharded by channel hash, each behind its own
//! RwLock (publishers take read locks, so publishers to unrelated — or even the
//! same — channels don't serialize); patterns live behind one RwLock read on
//! every PUBLISH and written only by (P)(UN)SUBSCRIBE. Outbox locks are taken
//! while a registry read lock is held; nothing takes a registry lock while
//! holding an outbox lock.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use bytes::Bytes;
use foldhash::fast::FixedState;
use indexmap::IndexMap;
use parking_lot::RwLock;

use crate::clients::ClientHandle;
use crate::glob::{glob_match, literal_prefix};
use crate::protocol::resp::MessageFrames;

/// Channel-map shards (a power of two).
const CHANNEL_SHARDS: usize = 64;

/// Subscribers of one channel or pattern, by client id.
type Subscribers = IndexMap<u64, Arc<ClientHandle>, FixedState>;
type ChannelMap = HashMap<Bytes, Subscribers, FixedState>;

/// Exact channels (SUBSCRIBE) or shard channels (SSUBSCRIBE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChannelKind {
    Channel,
    Shard,
}

/// Slow-subscriber limits in force (mirrors `client-output-buffer-limit pubsub`).
#[derive(Default)]
pub(crate) struct OutputLimits {
    pub(crate) hard_bytes: AtomicU64,
    pub(crate) soft_bytes: AtomicU64,
    pub(crate) soft_seconds: AtomicU64,
}

struct PatternEntry {
    pattern: Bytes,
    subscribers: Subscribers,
}

/// Patterns indexed by their literal prefix: a publish to channel `c` only tests
/// the patterns whose prefix is a prefix of `c`, probing one bucket per distinct
/// prefix length, so thousands of patterns that cannot match cost nothing.
#[derive(Default)]
struct PatternIndex {
    by_prefix: HashMap<Bytes, Vec<PatternEntry>, FixedState>,
    /// Distinct prefix lengths in use, ascending, with how many patterns use each.
    prefix_lengths: Vec<(usize, usize)>,
    count: usize,
}

impl PatternIndex {
    fn prefix_of(pattern: &[u8]) -> Bytes {
        Bytes::from(literal_prefix(pattern).0)
    }

    fn entry_mut(&mut self, pattern: &[u8]) -> Option<&mut PatternEntry> {
        let prefix = Self::prefix_of(pattern);
        self.by_prefix
            .get_mut(&prefix)?
            .iter_mut()
            .find(|e| e.pattern == pattern)
    }

    /// Add a subscriber; true if it was not subscribed already.
    fn add(&mut self, pattern: &Bytes, client: &Arc<ClientHandle>) -> bool {
        if let Some(entry) = self.entry_mut(pattern) {
            return entry
                .subscribers
                .insert(client.id, client.clone())
                .is_none();
        }
        let prefix = Self::prefix_of(pattern);
        let len = prefix.len();
        let mut subscribers = Subscribers::default();
        subscribers.insert(client.id, client.clone());
        self.by_prefix
            .entry(prefix)
            .or_default()
            .push(PatternEntry {
                pattern: pattern.clone(),
                subscribers,
            });
        match self.prefix_lengths.binary_search_by_key(&len, |&(l, _)| l) {
            Ok(i) => self.prefix_lengths[i].1 += 1,
            Err(i) => self.prefix_lengths.insert(i, (len, 1)),
        }
        self.count += 1;
        true
    }

    /// Remove a subscriber; true if it was subscribed.
    fn remove(&mut self, pattern: &[u8], client_id: u64) -> bool {
        let prefix = Self::prefix_of(pattern);
        let Some(bucket) = self.by_prefix.get_mut(&prefix) else {
            return false;
        };
        let Some(pos) = bucket.iter().position(|e| e.pattern == pattern) else {
            return false;
        };
        if bucket[pos].subscribers.swap_remove(&client_id).is_none() {
            return false;
        }
        if bucket[pos].subscribers.is_empty() {
            bucket.swap_remove(pos);
            if bucket.is_empty() {
                self.by_prefix.remove(&prefix);
            }
            if let Ok(i) = self
                .prefix_lengths
                .binary_search_by_key(&prefix.len(), |&(l, _)| l)
            {
                self.prefix_lengths[i].1 -= 1;
                if self.prefix_lengths[i].1 == 0 {
                    self.prefix_lengths.remove(i);
                }
            }
            self.count -= 1;
        }
        true
    }

    /// Every pattern matching `channel`, each once.
    fn matching<'a>(&'a self, channel: &'a [u8]) -> impl Iterator<Item = &'a PatternEntry> + 'a {
        self.prefix_lengths
            .iter()
            .take_while(move |&&(len, _)| len <= channel.len())
            .filter_map(move |&(len, _)| self.by_prefix.get(&channel[..len]))
            .flatten()
            .filter(move |e| glob_match(&e.pattern, channel))
    }
}

pub(crate) struct PubSub {
    channels: Box<[RwLock<ChannelMap>]>,
    shard_channels: Box<[RwLock<ChannelMap>]>,
    patterns: RwLock<PatternIndex>,
    pub(crate) limits: OutputLimits,
    /// Subscribers disconnected for passing an output buffer limit.
    pub(crate) limit_disconnections: AtomicU64,
}

impl Default for PubSub {
    fn default() -> Self {
        let shards = || {
            (0..CHANNEL_SHARDS)
                .map(|_| RwLock::new(ChannelMap::default()))
                .collect()
        };
        PubSub {
            channels: shards(),
            shard_channels: shards(),
            patterns: RwLock::new(PatternIndex::default()),
            limits: OutputLimits::default(),
            limit_disconnections: AtomicU64::new(0),
        }
    }
}

fn shard_of(channel: &[u8]) -> usize {
    let h = FixedState::with_seed(0x7075_6273_7562).hash_one(channel);
    (h >> 40) as usize & (CHANNEL_SHARDS - 1)
}

impl PubSub {
    fn map(&self, kind: ChannelKind, channel: &[u8]) -> &RwLock<ChannelMap> {
        let shards = match kind {
            ChannelKind::Channel => &self.channels,
            ChannelKind::Shard => &self.shard_channels,
        };
        &shards[shard_of(channel)]
    }

    /// Add `client` to `channel`; true if it was not subscribed already.
    pub(crate) fn subscribe(
        &self,
        kind: ChannelKind,
        channel: &Bytes,
        client: &Arc<ClientHandle>,
    ) -> bool {
        self.map(kind, channel)
            .write()
            .entry(channel.clone())
            .or_default()
            .insert(client.id, client.clone())
            .is_none()
    }

    /// Remove `client_id` from `channel`; true if it was subscribed.
    pub(crate) fn unsubscribe(&self, kind: ChannelKind, channel: &[u8], client_id: u64) -> bool {
        let mut map = self.map(kind, channel).write();
        let Some(subscribers) = map.get_mut(channel) else {
            return false;
        };
        let removed = subscribers.swap_remove(&client_id).is_some();
        if subscribers.is_empty() {
            map.remove(channel);
        }
        removed
    }

    pub(crate) fn psubscribe(&self, pattern: &Bytes, client: &Arc<ClientHandle>) -> bool {
        self.patterns.write().add(pattern, client)
    }

    pub(crate) fn punsubscribe(&self, pattern: &[u8], client_id: u64) -> bool {
        self.patterns.write().remove(pattern, client_id)
    }

    /// PUBLISH: deliver to channel subscribers, then pattern subscribers.
    /// Returns the number of deliveries.
    pub(crate) fn publish(&self, channel: &[u8], payload: &[u8], now_ms: u64) -> usize {
        let mut delivered = 0;
        {
            let map = self.map(ChannelKind::Channel, channel).read();
            if let Some(subscribers) = map.get(channel) {
                let mut frames = MessageFrames::new(b"message", None, channel, payload);
                for client in subscribers.values() {
                    self.deliver(client, frames.encoded(client.protocol()), now_ms);
                }
                delivered += subscribers.len();
            }
        }
        let patterns = self.patterns.read();
        for entry in patterns.matching(channel) {
            let mut frames =
                MessageFrames::new(b"pmessage", Some(&entry.pattern), channel, payload);
            for client in entry.subscribers.values() {
                self.deliver(client, frames.encoded(client.protocol()), now_ms);
            }
            delivered += entry.subscribers.len();
        }
        delivered
    }

    /// SPUBLISH: shard-channel subscribers only.
    pub(crate) fn spublish(&self, channel: &[u8], payload: &[u8], now_ms: u64) -> usize {
        let map = self.map(ChannelKind::Shard, channel).read();
        let Some(subscribers) = map.get(channel) else {
            return 0;
        };
        let mut frames = MessageFrames::new(b"smessage", None, channel, payload);
        for client in subscribers.values() {
            self.deliver(client, frames.encoded(client.protocol()), now_ms);
        }
        subscribers.len()
    }

    /// Queue one frame for `client`, enforcing the output buffer limits. A client
    /// already being disconnected still counts as a receiver (as in Redis) but
    /// gets nothing more queued.
    fn deliver(&self, client: &ClientHandle, frame: Bytes, now_ms: u64) {
        if client.is_closing() {
            return;
        }
        let queued = client.outbox.push(frame);
        let hard = self.limits.hard_bytes.load(Relaxed);
        if hard > 0 && queued > hard {
            self.disconnect_slow(client, queued, "hard");
            return;
        }
        let soft = self.limits.soft_bytes.load(Relaxed);
        if soft > 0 && queued > soft && client.outbox.soft_limit_since_ms.load(Relaxed) == 0 {
            // Recorded here, enforced by the cron (`check_soft_limit`).
            client
                .outbox
                .soft_limit_since_ms
                .store(now_ms.max(1), Relaxed);
        }
    }

    fn disconnect_slow(&self, client: &ClientHandle, queued: u64, which: &str) {
        if client.is_closing() {
            return;
        }
        client.close();
        self.limit_disconnections.fetch_add(1, Relaxed);
        tracing::warn!(
            client = client.id,
            addr = %client.addr,
            queued_bytes = queued,
            limit = which,
            "subscriber closed for overcoming of output buffer limits"
        );
    }

    /// Cron: close a subscriber that stayed over the soft limit for more than the
    /// soft period. Unlike Redis, dropping back under the soft limit resets the timer.
    pub(crate) fn check_soft_limit(&self, client: &ClientHandle, now_ms: u64) {
        let soft = self.limits.soft_bytes.load(Relaxed);
        let queued = client.outbox.queued_bytes();
        let since = client.outbox.soft_limit_since_ms.load(Relaxed);
        if soft == 0 || queued <= soft {
            if since != 0 {
                client.outbox.soft_limit_since_ms.store(0, Relaxed);
            }
            return;
        }
        if since == 0 {
            client
                .outbox
                .soft_limit_since_ms
                .store(now_ms.max(1), Relaxed);
            return;
        }
        let period_ms = self.limits.soft_seconds.load(Relaxed) * 1000;
        if now_ms.saturating_sub(since) > period_ms {
            self.disconnect_slow(client, queued, "soft");
        }
    }

    /// Channels with at least one subscriber, optionally filtered by a glob.
    pub(crate) fn channels(&self, kind: ChannelKind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let shards = match kind {
            ChannelKind::Channel => &self.channels,
            ChannelKind::Shard => &self.shard_channels,
        };
        let mut out = Vec::new();
        for shard in shards.iter() {
            for name in shard.read().keys() {
                if pattern.is_none_or(|p| glob_match(p, name)) {
                    out.push(name.clone());
                }
            }
        }
        out
    }

    pub(crate) fn numsub(&self, kind: ChannelKind, channel: &[u8]) -> usize {
        self.map(kind, channel)
            .read()
            .get(channel)
            .map_or(0, |s| s.len())
    }

    /// Distinct patterns with at least one subscriber (PUBSUB NUMPAT).
    pub(crate) fn numpat(&self) -> usize {
        self.patterns.read().count
    }

    pub(crate) fn channel_count(&self, kind: ChannelKind) -> usize {
        let shards = match kind {
            ChannelKind::Channel => &self.channels,
            ChannelKind::Shard => &self.shard_channels,
        };
        shards.iter().map(|s| s.read().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::{ClientKind, ClientRegistry};
    use crate::protocol::resp::Protocol;
    use bytes::BytesMut;

    fn client(r: &ClientRegistry) -> Arc<ClientHandle> {
        let a = "127.0.0.1:1".parse().unwrap();
        r.register(
            ClientKind::Resp,
            a,
            a,
            0,
            100,
            tokio_util::sync::CancellationToken::new(),
        )
        .unwrap()
    }

    fn drained(c: &ClientHandle) -> Vec<u8> {
        let mut out = BytesMut::new();
        c.outbox.drain_into(&mut out, usize::MAX);
        out.to_vec()
    }

    /// The frame a client of `protocol` should receive.
    fn frame(
        protocol: Protocol,
        kind: &[u8],
        pattern: Option<&[u8]>,
        ch: &[u8],
        msg: &[u8],
    ) -> Vec<u8> {
        MessageFrames::new(kind, pattern, ch, msg)
            .encoded(protocol)
            .to_vec()
    }

    #[test]
    fn channel_then_patterns_each_counted() {
        let r = ClientRegistry::default();
        let ps = PubSub::default();
        let c = client(&r);
        let ch = Bytes::from_static(b"news.tech");
        assert!(ps.subscribe(ChannelKind::Channel, &ch, &c));
        assert!(!ps.subscribe(ChannelKind::Channel, &ch, &c));
        assert!(ps.psubscribe(&Bytes::from_static(b"news.*"), &c));
        assert!(ps.psubscribe(&Bytes::from_static(b"*tech"), &c));
        assert!(ps.psubscribe(&Bytes::from_static(b"sport.*"), &c));
        assert_eq!(ps.publish(b"news.tech", b"hi", 0), 3);
        // The exact channel first, then each matching pattern once.
        let got = drained(&c);
        let resp2 = Protocol::Resp2;
        let message = frame(resp2, b"message", None, b"news.tech", b"hi");
        let news = frame(resp2, b"pmessage", Some(b"news.*"), b"news.tech", b"hi");
        let tech = frame(resp2, b"pmessage", Some(b"*tech"), b"news.tech", b"hi");
        let either = [
            [&message[..], &news, &tech].concat(),
            [&message[..], &tech, &news].concat(),
        ];
        assert!(either.contains(&got), "{}", String::from_utf8_lossy(&got));
        assert_eq!(ps.numpat(), 3);
        assert!(ps.punsubscribe(b"news.*", c.id));
        assert!(!ps.punsubscribe(b"news.*", c.id));
        assert_eq!(ps.numpat(), 2);
        assert_eq!(ps.publish(b"news.tech", b"x", 0), 2);
    }

    #[test]
    fn resp3_clients_get_push_frames_encoded_once() {
        let r = ClientRegistry::default();
        let ps = PubSub::default();
        let a = client(&r);
        let b = client(&r);
        b.resp.store(3, Relaxed);
        let ch = Bytes::from_static(b"c");
        ps.subscribe(ChannelKind::Channel, &ch, &a);
        ps.subscribe(ChannelKind::Channel, &ch, &b);
        assert_eq!(ps.publish(b"c", b"p", 0), 2);
        assert_eq!(
            drained(&a),
            frame(Protocol::Resp2, b"message", None, b"c", b"p")
        );
        assert_eq!(
            drained(&b),
            frame(Protocol::Resp3, b"message", None, b"c", b"p")
        );
    }

    #[test]
    fn shard_channels_ignore_patterns() {
        let r = ClientRegistry::default();
        let ps = PubSub::default();
        let c = client(&r);
        ps.psubscribe(&Bytes::from_static(b"*"), &c);
        ps.subscribe(ChannelKind::Shard, &Bytes::from_static(b"s"), &c);
        assert_eq!(ps.spublish(b"s", b"m", 0), 1);
        assert_eq!(
            drained(&c),
            frame(Protocol::Resp2, b"smessage", None, b"s", b"m")
        );
        assert_eq!(ps.channel_count(ChannelKind::Shard), 1);
        assert_eq!(ps.channel_count(ChannelKind::Channel), 0);
    }

    #[test]
    fn hard_limit_disconnects_and_stops_queueing() {
        let r = ClientRegistry::default();
        let ps = PubSub::default();
        ps.limits.hard_bytes.store(100, Relaxed);
        let c = client(&r);
        ps.subscribe(ChannelKind::Channel, &Bytes::from_static(b"c"), &c);
        for _ in 0..10 {
            ps.publish(b"c", &[b'x'; 30], 0);
        }
        assert!(c.is_closing());
        assert!(c.outbox.queued_bytes() < 200, "{}", c.outbox.queued_bytes());
        assert_eq!(ps.limit_disconnections.load(Relaxed), 1);
    }

    #[test]
    fn soft_limit_needs_the_whole_period_and_resets_when_drained() {
        let r = ClientRegistry::default();
        let ps = PubSub::default();
        ps.limits.soft_bytes.store(50, Relaxed);
        ps.limits.soft_seconds.store(2, Relaxed);
        let c = client(&r);
        ps.subscribe(ChannelKind::Channel, &Bytes::from_static(b"c"), &c);
        ps.publish(b"c", &[b'x'; 60], 1000);
        ps.check_soft_limit(&c, 2500);
        assert!(!c.is_closing());
        // Drained below the soft limit: the timer resets.
        let n = c.outbox.drain_into(&mut BytesMut::new(), usize::MAX);
        c.outbox.written(n);
        ps.check_soft_limit(&c, 2600);
        ps.publish(b"c", &[b'x'; 60], 2700);
        ps.check_soft_limit(&c, 3100);
        assert!(!c.is_closing(), "timer should have restarted at 2700");
        ps.check_soft_limit(&c, 4701);
        assert!(c.is_closing());
    }

    #[test]
    fn pattern_index_probes_only_possible_prefixes() {
        let r = ClientRegistry::default();
        let ps = PubSub::default();
        let c = client(&r);
        for i in 0..5000 {
            ps.psubscribe(&Bytes::from(format!("tenant{i}.*")), &c);
        }
        ps.psubscribe(&Bytes::from_static(b"h?llo"), &c);
        ps.psubscribe(&Bytes::from_static(b"*"), &c);
        let idx = ps.patterns.read();
        let matched: Vec<&[u8]> = idx
            .matching(b"tenant42.x")
            .map(|e| &e.pattern[..])
            .collect();
        assert_eq!(matched.len(), 2, "{matched:?}");
        assert!(matched.contains(&&b"tenant42.*"[..]) && matched.contains(&&b"*"[..]));
        let matched: Vec<&[u8]> = idx.matching(b"hallo").map(|e| &e.pattern[..]).collect();
        assert_eq!(matched.len(), 2, "{matched:?}");
    }
}
