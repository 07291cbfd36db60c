//! The sorted set value: member -> score in O(1), and the members ordered by
//! (score, member) with O(log n) insert, delete, rank and range.
//!
//! The order is a skiplist with spans, as Redis's `zskiplist` (t_zset.c), but
//! kept in an arena: nodes live in a `Vec` and link by `u32` index instead of
//! by pointer, so there is no unsafe code and a freed node's slot is reused.
//! Each level of a node holds its forward link and its span (how many level-0
//! steps that link jumps), so the rank of any node is the sum of the spans on
//! the way to it, and a node is found by rank in O(log n) expected.
//!
//! The member -> node lookup is a `hashbrown::HashTable` of node indices
//! hashed by the node's member, so each member's bytes are stored once.
//!
//! Order: by score, then by member bytes (memcmp, a shorter prefix first), as
//! Redis. Scores are never NaN (the commands refuse it); -0.0 and 0.0 compare
//! equal, so their order is decided by member.
//!
//! Encoding: Redis keeps a small sorted set in a listpack and converts it once,
//! for good, to a skiplist when it grows past `zset-max-listpack-entries` or a
//! member longer than `zset-max-listpack-value` arrives. herald keeps the one
//! representation and remembers only whether that conversion has happened
//! (`skiplist`), so OBJECT ENCODING answers as Redis; when to convert is the
//! commands' policy (src/commands/zsets.rs).
//!
//! Every change reports the difference in charged bytes it made, so the store's
//! accounting is O(1) per change (`Slot::update_with_charge`).

use std::cmp::Ordering;
use std::hash::BuildHasher;

use hashbrown::hash_table::Entry;
use hashbrown::HashTable;

use super::compact_bytes::CompactBytes;

/// Bytes charged per sorted-set member beyond its data: the node (member
/// pointer, score, back link, level array) and the lookup table's slot.
pub const ZSET_MEMBER_OVERHEAD_BYTES: usize = 56;

/// Most levels a node may have (Redis ZSKIPLIST_MAXLEVEL).
const MAX_LEVEL: usize = 32;
/// Probability of one more level (Redis ZSKIPLIST_P).
const LEVEL_P: f64 = 0.25;
/// "No node": the end of a level, or no back link.
const NIL: u32 = u32::MAX;
/// The head of the list, as a node index ...
const HEAD: u32 = u32::MAX - 1;
/// ... and as a level array (its levels are `SkipList::head`).
const HEAD_LEVELS: u32 = u32::MAX - 1;

type Hasher = foldhash::fast::RandomState;

#[derive(Clone, Copy, Debug, Default)]
struct Level {
    /// The node this level links to (NIL at the end).
    forward: u32,
    /// Where that node's levels start in `SkipList::levels`, so a search
    /// steps from level array to level array without reading the node.
    forward_levels: u32,
    /// Level-0 steps from this node to `forward` (to the end for NIL).
    span: u32,
    /// The score of `forward` (0 for NIL), kept here so a search compares
    /// without visiting the next node: one cache miss per step, as in Redis
    /// (whose levels are inline in the node). Only a tie on the score reads
    /// the next node's member.
    score: f64,
}

#[derive(Clone, Debug)]
struct Node {
    member: CompactBytes,
    score: f64,
    backward: u32,
    /// Where this node's levels start in `SkipList::levels` (contiguous).
    levels: u32,
    height: u8,
}

/// Compare (score, member) pairs in the set's order.
fn cmp(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> Ordering {
    match a_score.partial_cmp(&b_score) {
        Some(Ordering::Equal) | None => a_member.cmp(b_member),
        Some(o) => o,
    }
}

/// The ordered part: an arena skiplist with spans. Nodes and their level
/// arrays live in two arenas: `nodes` (member, score, back link) and `levels`
/// (each node's levels side by side, at `Node::levels`). A search walks the
/// level arena only.
#[derive(Clone, Debug)]
struct SkipList {
    nodes: Vec<Node>,
    /// Slots of deleted nodes, reused by the next inserts.
    free: Vec<u32>,
    levels: Vec<Level>,
    /// Freed level arrays by height (index height - 1), reused likewise.
    free_levels: Vec<Vec<u32>>,
    /// The head's levels; its length is the list's current level count.
    head: Vec<Level>,
    tail: u32,
    len: usize,
}

/// What `SkipList::path` finds: for each level, the level array of the last
/// node before the searched position (`HEAD_LEVELS` for the head) and that
/// node's rank (1-based; the head is 0); and the last such node on level 0.
struct Path {
    update: [u32; MAX_LEVEL],
    rank: [usize; MAX_LEVEL],
    prev: u32,
}

impl Default for SkipList {
    fn default() -> Self {
        SkipList {
            nodes: Vec::new(),
            free: Vec::new(),
            levels: Vec::new(),
            free_levels: Vec::new(),
            head: vec![Level {
                forward: NIL,
                forward_levels: NIL,
                span: 0,
                score: 0.0,
            }],
            tail: NIL,
            len: 0,
        }
    }
}

/// Make room for `more` items, growing by an eighth of the capacity (not
/// doubling, as `Vec` does): a large set's arenas then hold about as much as
/// they use (jemalloc's size classes, a quarter of a doubling apart, round
/// each request up), instead of up to twice as much. Still geometric, so an
/// insert copies O(1) items on average (8, against doubling's 1).
fn grow_arena<T>(v: &mut Vec<T>, more: usize) {
    if v.capacity() - v.len() < more {
        v.reserve_exact((v.capacity() / 8).max(more).max(16));
    }
}

fn random_level() -> usize {
    let mut level = 1;
    while level < MAX_LEVEL && fastrand::f64() < LEVEL_P {
        level += 1;
    }
    level
}

impl SkipList {
    /// Level `i` of the level array at `at` (`HEAD_LEVELS`: the head's).
    #[inline]
    fn level(&self, at: u32, i: usize) -> Level {
        if at == HEAD_LEVELS {
            self.head[i]
        } else {
            self.levels[at as usize + i]
        }
    }

    #[inline]
    fn level_mut(&mut self, at: u32, i: usize) -> &mut Level {
        if at == HEAD_LEVELS {
            &mut self.head[i]
        } else {
            &mut self.levels[at as usize + i]
        }
    }

    fn node(&self, x: u32) -> &Node {
        &self.nodes[x as usize]
    }

    /// Whether the node `l` links to comes before (score, member); `l` is
    /// not NIL. Reads the node only on a tie of scores.
    #[inline]
    fn link_before(&self, l: Level, score: f64, member: &[u8]) -> bool {
        match l.score.partial_cmp(&score) {
            Some(Ordering::Less) => true,
            Some(Ordering::Greater) => false,
            _ => *self.node(l.forward).member < *member,
        }
    }

    /// For each level, the last node before (score, member) (see `Path`).
    fn path(&self, score: f64, member: &[u8]) -> Path {
        let mut path = Path {
            update: [HEAD_LEVELS; MAX_LEVEL],
            rank: [0usize; MAX_LEVEL],
            prev: HEAD,
        };
        let mut x = HEAD;
        let mut at = HEAD_LEVELS;
        let levels = self.head.len();
        for i in (0..levels).rev() {
            path.rank[i] = if i + 1 == levels { 0 } else { path.rank[i + 1] };
            loop {
                let l = self.level(at, i);
                if l.forward != NIL && self.link_before(l, score, member) {
                    path.rank[i] += l.span as usize;
                    x = l.forward;
                    at = l.forward_levels;
                } else {
                    break;
                }
            }
            path.update[i] = at;
        }
        path.prev = x;
        path
    }

    /// A level array of `height` levels: a freed one of that height, or new.
    fn alloc_levels(&mut self, height: usize) -> u32 {
        if let Some(at) = self.free_levels.get_mut(height - 1).and_then(Vec::pop) {
            return at;
        }
        let at = self.levels.len();
        grow_arena(&mut self.levels, height);
        self.levels.resize(at + height, Level::default());
        at as u32
    }

    /// Insert a member known to be absent; returns its node index.
    fn insert(&mut self, score: f64, member: CompactBytes) -> u32 {
        let Path {
            mut update,
            mut rank,
            prev,
        } = self.path(score, &member);
        let height = random_level();
        let old_levels = self.head.len();
        for i in old_levels..height {
            rank[i] = 0;
            update[i] = HEAD_LEVELS;
            self.head.push(Level {
                forward: NIL,
                forward_levels: NIL,
                span: self.len as u32,
                score: 0.0,
            });
        }
        let at = self.alloc_levels(height);
        for i in 0..height {
            let before = self.level(update[i], i);
            let steps = (rank[0] - rank[i]) as u32;
            self.levels[at as usize + i] = Level {
                span: before.span - steps,
                ..before
            };
        }
        let node = Node {
            member,
            score,
            backward: if prev == HEAD { NIL } else { prev },
            levels: at,
            height: height as u8,
        };
        let x = match self.free.pop() {
            Some(x) => {
                self.nodes[x as usize] = node;
                x
            }
            None => {
                grow_arena(&mut self.nodes, 1);
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        for i in 0..height {
            let steps = (rank[0] - rank[i]) as u32;
            let before = self.level_mut(update[i], i);
            before.forward = x;
            before.forward_levels = at;
            before.span = steps + 1;
            before.score = score;
        }
        for (i, &u) in update.iter().enumerate().take(self.head.len()).skip(height) {
            self.level_mut(u, i).span += 1;
        }
        let next = self.levels[at as usize].forward;
        if next == NIL {
            self.tail = x;
        } else {
            self.nodes[next as usize].backward = x;
        }
        self.len += 1;
        x
    }

    /// Unlink node `x` (found with `path`), free its slots and return its member.
    fn delete(&mut self, x: u32, update: &[u32; MAX_LEVEL]) -> CompactBytes {
        let (at, height, backward) = {
            let n = self.node(x);
            (n.levels, n.height as usize, n.backward)
        };
        for (i, &u) in update.iter().enumerate().take(self.head.len()) {
            if self.level(u, i).forward == x {
                let gone = self.levels[at as usize + i];
                let before = self.level_mut(u, i);
                before.span = before.span + gone.span - 1;
                before.forward = gone.forward;
                before.forward_levels = gone.forward_levels;
                before.score = gone.score;
            } else {
                self.level_mut(u, i).span -= 1;
            }
        }
        let next = self.levels[at as usize].forward;
        if next == NIL {
            self.tail = backward;
        } else {
            self.nodes[next as usize].backward = backward;
        }
        while self.head.len() > 1 && self.head[self.head.len() - 1].forward == NIL {
            self.head.pop();
        }
        self.len -= 1;
        if self.free_levels.len() < height {
            self.free_levels.resize_with(height, Vec::new);
        }
        self.free_levels[height - 1].push(at);
        self.free.push(x);
        std::mem::take(&mut self.nodes[x as usize].member)
    }

    /// Remove the node holding (score, member); returns its member.
    fn remove(&mut self, score: f64, member: &[u8]) -> Option<CompactBytes> {
        let path = self.path(score, member);
        let x = self.level(path.update[0], 0).forward;
        if x == NIL {
            return None;
        }
        let n = self.node(x);
        if cmp(n.score, &n.member, score, member) != Ordering::Equal {
            return None;
        }
        Some(self.delete(x, &path.update))
    }

    /// 0-based rank of (score, member), which must be in the list.
    fn rank(&self, score: f64, member: &[u8]) -> usize {
        self.path(score, member).rank[0]
    }

    /// The node at 0-based `rank`.
    fn at(&self, rank: usize) -> Option<u32> {
        if rank >= self.len {
            return None;
        }
        let target = rank + 1;
        let mut at = HEAD_LEVELS;
        let mut traversed = 0usize;
        for i in (0..self.head.len()).rev() {
            loop {
                let l = self.level(at, i);
                if l.forward != NIL && traversed + l.span as usize <= target {
                    traversed += l.span as usize;
                    if traversed == target {
                        return Some(l.forward);
                    }
                    at = l.forward_levels;
                } else {
                    break;
                }
            }
        }
        None
    }

    /// How many leading nodes satisfy `pred` (which must hold for a prefix of
    /// the order: true, then false).
    fn count_while(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut at = HEAD_LEVELS;
        let mut rank = 0usize;
        for i in (0..self.head.len()).rev() {
            loop {
                let l = self.level(at, i);
                if l.forward == NIL {
                    break;
                }
                if !pred(l.score, &self.node(l.forward).member) {
                    break;
                }
                rank += l.span as usize;
                at = l.forward_levels;
            }
        }
        rank
    }

    /// Change the score of node `x` (member found in the table). Returns the
    /// node's index afterwards (it moves when its place in the order changes).
    fn update_score(&mut self, x: u32, new_score: f64) -> u32 {
        // The predecessors cache the node's score at every level, so even a
        // change that keeps its place relinks it (both walks are O(log n)).
        let n = self.node(x);
        let path = self.path(n.score, &n.member);
        let member = self.delete(x, &path.update);
        self.insert(new_score, member)
    }
}

/// A sorted set.
#[derive(Clone, Default)]
pub struct ZSetValue {
    list: SkipList,
    /// Node indices, hashed by their member.
    table: HashTable<u32>,
    hasher: Hasher,
    /// Converted to a skiplist (Redis never converts back to a listpack).
    pub skiplist: bool,
}

fn member_charge(member: &[u8]) -> isize {
    (member.len() + ZSET_MEMBER_OVERHEAD_BYTES) as isize
}

impl ZSetValue {
    pub fn len(&self) -> usize {
        self.list.len
    }

    pub fn is_empty(&self) -> bool {
        self.list.len == 0
    }

    fn find(&self, member: &[u8]) -> Option<u32> {
        let hash = self.hasher.hash_one(member);
        let nodes = &self.list.nodes;
        self.table
            .find(hash, |&x| &*nodes[x as usize].member == member)
            .copied()
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|x| self.list.node(x).score)
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        self.find(member).is_some()
    }

    /// Set `member`'s score, adding it if absent. Returns its old score (None
    /// when it is new) and the charge change. One hash probe either way.
    pub fn insert(&mut self, member: &[u8], score: f64) -> (Option<f64>, isize) {
        let hash = self.hasher.hash_one(member);
        // One probe: the table's entry for the member, found or vacant.
        let (nodes, hasher) = (&self.list.nodes, &self.hasher);
        let entry = self.table.entry(
            hash,
            |&x| &*nodes[x as usize].member == member,
            |&i| hasher.hash_one(&*nodes[i as usize].member),
        );
        match entry {
            Entry::Occupied(mut e) => {
                let x = *e.get();
                let old = self.list.node(x).score;
                // An equal score (0 and -0 alike, as Redis) changes nothing.
                if old != score {
                    *e.get_mut() = self.list.update_score(x, score);
                }
                (Some(old), 0)
            }
            Entry::Vacant(v) => {
                let x = self.list.insert(score, CompactBytes::new(member));
                v.insert(x);
                (None, member_charge(member))
            }
        }
    }

    /// Remove `member`; returns its score and the (negative) charge change.
    pub fn remove(&mut self, member: &[u8]) -> Option<(f64, isize)> {
        let hash = self.hasher.hash_one(member);
        let nodes = &self.list.nodes;
        let entry = self
            .table
            .find_entry(hash, |&x| &*nodes[x as usize].member == member)
            .ok()?;
        let (x, _) = entry.remove();
        let score = self.list.node(x).score;
        self.list.remove(score, member);
        Some((score, -member_charge(member)))
    }

    /// 0-based rank of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let x = self.find(member)?;
        let n = self.list.node(x);
        Some(self.list.rank(n.score, &n.member))
    }

    /// The member and score at 0-based ascending `rank`.
    pub fn get_by_rank(&self, rank: usize) -> Option<(&[u8], f64)> {
        let x = self.list.at(rank)?;
        let n = self.list.node(x);
        Some((&n.member, n.score))
    }

    /// Members with a score below `bound` (or at most `bound` when `inclusive`).
    pub fn count_below_score(&self, bound: f64, inclusive: bool) -> usize {
        self.list
            .count_while(|s, _| s < bound || (inclusive && s == bound))
    }

    /// How many leading members (in order) satisfy `pred`, which must be true
    /// for a prefix of the order and false after (a lexicographic bound).
    pub fn count_while(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        self.list.count_while(pred)
    }

    /// Members with ranks `start..end`, ascending, or descending from `end - 1`
    /// down to `start` when `rev`.
    pub fn range(&self, start: usize, end: usize, rev: bool) -> Iter<'_> {
        let end = end.min(self.len());
        let remaining = end.saturating_sub(start);
        let at = if remaining == 0 {
            NIL
        } else if rev {
            if end == self.len() {
                self.list.tail
            } else {
                self.list.at(end - 1).unwrap_or(NIL)
            }
        } else {
            self.list.at(start).unwrap_or(NIL)
        };
        Iter {
            list: &self.list,
            at,
            remaining,
            rev,
        }
    }

    /// Every member, ascending.
    pub fn iter(&self) -> Iter<'_> {
        self.range(0, self.len(), false)
    }

    /// Bytes charged for the members.
    pub fn charged_bytes(&self) -> usize {
        self.iter().map(|(m, _)| member_charge(m) as usize).sum()
    }

    /// The longest member's length (to decide the encoding of a fresh value).
    pub fn max_member_len(&self) -> usize {
        self.iter().map(|(m, _)| m.len()).max().unwrap_or(0)
    }
}

/// Members and scores in rank order (see `ZSetValue::range`).
pub struct Iter<'a> {
    list: &'a SkipList,
    at: u32,
    remaining: usize,
    rev: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 || self.at == NIL {
            return None;
        }
        let n = &self.list.nodes[self.at as usize];
        self.remaining -= 1;
        self.at = if self.rev {
            n.backward
        } else {
            self.list.levels[n.levels as usize].forward
        };
        Some((&n.member, n.score))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

// `remaining` is exact: `range` clamps it to the members there are.
impl ExactSizeIterator for Iter<'_> {}

impl PartialEq for ZSetValue {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.skiplist == other.skiplist
            && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

// Scores are never NaN, so equality is reflexive.
impl Eq for ZSetValue {}

impl std::fmt::Debug for ZSetValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(m, s)| (String::from_utf8_lossy(m).into_owned(), s)),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The naive model: a sorted Vec of (score, member).
    fn model_sorted(model: &[(f64, Vec<u8>)]) -> Vec<(f64, Vec<u8>)> {
        let mut v = model.to_vec();
        v.sort_by(|a, b| cmp(a.0, &a.1, b.0, &b.1));
        v
    }

    fn check(z: &ZSetValue, model: &[(f64, Vec<u8>)]) {
        let sorted = model_sorted(model);
        assert_eq!(z.len(), sorted.len());
        let got: Vec<(f64, Vec<u8>)> = z.iter().map(|(m, s)| (s, m.to_vec())).collect();
        assert_eq!(got, sorted);
        let rev: Vec<(f64, Vec<u8>)> = z
            .range(0, z.len(), true)
            .map(|(m, s)| (s, m.to_vec()))
            .collect();
        let mut expected_rev = sorted.clone();
        expected_rev.reverse();
        assert_eq!(rev, expected_rev);
        for (i, (s, m)) in sorted.iter().enumerate() {
            assert_eq!(z.rank(m), Some(i));
            assert_eq!(z.score(m), Some(*s));
            assert_eq!(z.get_by_rank(i), Some((&m[..], *s)));
        }
        assert_eq!(z.get_by_rank(sorted.len()), None);
        assert_eq!(
            z.charged_bytes(),
            sorted
                .iter()
                .map(|(_, m)| m.len() + ZSET_MEMBER_OVERHEAD_BYTES)
                .sum::<usize>()
        );
    }

    #[test]
    fn orders_by_score_then_member() {
        let mut z = ZSetValue::default();
        assert_eq!(
            z.insert(b"b", 1.0),
            (None, 1 + ZSET_MEMBER_OVERHEAD_BYTES as isize)
        );
        z.insert(b"a", 1.0);
        z.insert(b"c", 0.5);
        z.insert(b"ab", f64::INFINITY);
        z.insert(b"x", f64::NEG_INFINITY);
        let order: Vec<&[u8]> = z.iter().map(|(m, _)| m).collect();
        assert_eq!(order, [&b"x"[..], b"c", b"a", b"b", b"ab"]);
        assert_eq!(z.insert(b"c", 2.0), (Some(0.5), 0));
        assert_eq!(z.rank(b"c"), Some(3));
        assert_eq!(
            z.remove(b"a"),
            Some((1.0, -(1 + ZSET_MEMBER_OVERHEAD_BYTES as isize)))
        );
        assert_eq!(z.remove(b"a"), None);
        assert_eq!(z.count_below_score(1.0, false), 1);
        assert_eq!(z.count_below_score(1.0, true), 2);
        let mid: Vec<&[u8]> = z.range(1, 3, false).map(|(m, _)| m).collect();
        assert_eq!(mid, [&b"b"[..], b"c"]);
        let mid: Vec<&[u8]> = z.range(1, 3, true).map(|(m, _)| m).collect();
        assert_eq!(mid, [&b"c"[..], b"b"]);
    }

    #[test]
    fn randomized_against_a_sorted_vec() {
        for round in 0..20 {
            let mut z = ZSetValue::default();
            let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
            let members = if round % 2 == 0 { 20 } else { 400 };
            for step in 0..3000 {
                let member = format!("m{}", fastrand::usize(..members)).into_bytes();
                // Few distinct scores, so ties (ordered by member) are common.
                let score = (fastrand::i32(-20..20) as f64) / 4.0;
                match fastrand::u8(..10) {
                    0..=5 => {
                        let old = model.iter().position(|(_, m)| *m == member);
                        let (prev, _) = z.insert(&member, score);
                        assert_eq!(prev, old.map(|i| model[i].0));
                        match old {
                            Some(i) => model[i].0 = score,
                            None => model.push((score, member)),
                        }
                    }
                    6..=8 => {
                        let old = model.iter().position(|(_, m)| *m == member);
                        let removed = z.remove(&member).map(|(s, _)| s);
                        assert_eq!(removed, old.map(|i| model[i].0));
                        if let Some(i) = old {
                            model.swap_remove(i);
                        }
                    }
                    _ => {
                        let sorted = model_sorted(&model);
                        let bound = (fastrand::i32(-24..24) as f64) / 4.0;
                        let below = sorted.iter().filter(|(s, _)| *s < bound).count();
                        let at_most = sorted.iter().filter(|(s, _)| *s <= bound).count();
                        assert_eq!(z.count_below_score(bound, false), below);
                        assert_eq!(z.count_below_score(bound, true), at_most);
                        let start = fastrand::usize(..=sorted.len());
                        let end = fastrand::usize(start..=sorted.len());
                        let got: Vec<Vec<u8>> = z
                            .range(start, end, false)
                            .map(|(m, _)| m.to_vec())
                            .collect();
                        let want: Vec<Vec<u8>> =
                            sorted[start..end].iter().map(|(_, m)| m.clone()).collect();
                        assert_eq!(got, want);
                        let got: Vec<Vec<u8>> =
                            z.range(start, end, true).map(|(m, _)| m.to_vec()).collect();
                        let want: Vec<Vec<u8>> = sorted[start..end]
                            .iter()
                            .rev()
                            .map(|(_, m)| m.clone())
                            .collect();
                        assert_eq!(got, want);
                    }
                }
                if step % 500 == 0 {
                    check(&z, &model);
                }
            }
            check(&z, &model);
            let clone = z.clone();
            assert_eq!(clone, z);
        }
    }

    #[test]
    fn a_large_set_stays_logarithmic_in_height() {
        let mut z = ZSetValue::default();
        for i in 0..100_000u32 {
            z.insert(format!("{i:08}").as_bytes(), (i % 1000) as f64);
        }
        assert!(z.list.head.len() <= MAX_LEVEL);
        assert_eq!(z.rank(b"00000000"), Some(0));
        assert_eq!(z.get_by_rank(99_999).map(|(_, s)| s), Some(999.0));
        for i in 0..50_000u32 {
            z.remove(format!("{i:08}").as_bytes());
        }
        assert_eq!(z.len(), 50_000);
        assert_eq!(z.rank(b"00050000"), Some(0));
        for i in 0..10u32 {
            z.insert(format!("new{i}").as_bytes(), -1.0);
        }
        assert_eq!(z.list.free.len(), 49_990, "freed slots are reused");
        assert_eq!(z.list.nodes.len(), 100_000);
    }

    /// Not a benchmark (BENCHMARKS.md has those): a fixed workload to compare
    /// two versions of the skiplist with `perf stat`, as redis-benchmark's
    /// ZADD does it (random scores, 100k random members, 2M calls).
    /// `cargo test --release --lib zset::tests::zadd_workload -- --ignored`
    #[test]
    #[ignore]
    fn zadd_workload() {
        let mut z = ZSetValue::default();
        let mut rng = fastrand::Rng::with_seed(7);
        let start = std::time::Instant::now();
        for _ in 0..2_000_000 {
            let member = format!("element:{:012}", rng.u32(0..100_000));
            z.insert(member.as_bytes(), rng.u32(0..100_000) as f64);
        }
        eprintln!("zadd_workload: {:?}, {} members", start.elapsed(), z.len());
        assert_eq!(z.len(), 100_000);
    }
}
