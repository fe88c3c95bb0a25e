//! The wait-for graph of one snapshot, read from the sessions' `blocked_by`:
//! the root blockers (sessions others wait on that wait for nobody), how many
//! wait on each directly and in total, what each holds, the chain from any
//! waiter up to its root, and the tree the locks view lists.

use std::collections::{HashMap, HashSet, VecDeque};

use super::WaitKind;
use crate::snapshot::Session;

/// A lock a root holds, as its waiters say.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Held {
    pub kind: WaitKind,
    pub object: Option<String>,
}

impl Held {
    /// `metadata lock on appdb.t`, `global read lock`.
    pub fn describe(&self) -> String {
        self.kind.held(self.object.as_deref())
    }
}

/// A session others wait on that waits for nobody it is known to wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    pub id: u64,
    /// Sessions waiting on it directly.
    pub direct: usize,
    /// Sessions waiting on it directly or down the chain.
    pub total: usize,
    /// What it holds that its direct waiters want.
    pub holds: Vec<Held>,
    /// Every direct waiter's edge comes from the lock tables.
    pub certain: bool,
    /// It waits itself, for a holder that cannot be named.
    pub waits_unseen: bool,
    /// It is on a cycle of waits (a deadlock the server has not broken yet,
    /// or an inference that went round); picked as the cycle's root.
    pub on_cycle: bool,
}

/// What a row of the locks tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeRowKind {
    /// A root blocker.
    Root,
    /// A session waiting on the row above it at `depth - 1`.
    Waiter,
    /// A waiter whose own waiters are listed under an earlier row.
    Listed,
    /// `hidden` more sessions wait below the row above (collapsed).
    More { hidden: usize },
    /// The heading of the waiters whose holder cannot be named.
    Unheld { count: usize },
}

/// One row of the locks tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeRow {
    /// The session (0 for `More` and `Unheld`).
    pub id: u64,
    /// Indentation: 0 for roots and headings.
    pub depth: u8,
    pub kind: TreeRowKind,
    /// Sessions waiting on this one directly.
    pub direct: usize,
}

/// Sessions by id, through their positions.
struct ById<'a> {
    sessions: &'a [Session],
    position: &'a HashMap<u64, usize>,
}

impl<'a> ById<'a> {
    fn get(&self, id: &u64) -> Option<&'a Session> {
        self.position.get(id).and_then(|&i| self.sessions.get(i))
    }
}

/// The wait-for graph of one snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    /// Root blockers, most waiters first.
    pub roots: Vec<Root>,
    /// Waiting sessions with no known holder and nobody waiting on them.
    pub unheld: Vec<u64>,
    /// Sessions waiting for a lock.
    pub waiting: usize,
    /// Holder id -> the sessions waiting on it directly, longest wait first.
    waiters: HashMap<u64, Vec<u64>>,
    /// Waiter id -> its first holder, for chains.
    first_holder: HashMap<u64, u64>,
    /// Root ids, for marks.
    root_ids: HashSet<u64>,
    /// Position in the snapshot's sessions of every session in the graph.
    positions: HashMap<u64, usize>,
}

impl Graph {
    /// Reads the graph from the sessions' `blocked_by` and `wait`.
    pub fn build(sessions: &[Session]) -> Graph {
        let mut g = Graph::default();
        let waiting: Vec<&Session> = sessions.iter().filter(|s| s.wait.is_some()).collect();
        if waiting.is_empty() {
            return g;
        }
        g.waiting = waiting.len();
        let position: HashMap<u64, usize> = sessions
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id, i))
            .collect();
        let by_id = ById {
            sessions,
            position: &position,
        };
        for s in &waiting {
            for &h in &s.blocked_by {
                g.waiters.entry(h).or_default().push(s.id);
            }
            if let Some(&h) = s.blocked_by.first() {
                g.first_holder.insert(s.id, h);
            }
        }
        let time = |id: &u64| by_id.get(id).map_or(0, |s| s.time_ms);
        for list in g.waiters.values_mut() {
            list.sort_unstable_by(|a, b| time(b).cmp(&time(a)).then(a.cmp(b)));
            list.dedup();
        }
        let blocked = |id: u64| by_id.get(&id).is_some_and(|s| !s.blocked_by.is_empty());
        let mut holders: Vec<u64> = g.waiters.keys().copied().collect();
        holders.sort_unstable();
        let unblocked: Vec<u64> = holders.iter().copied().filter(|&h| !blocked(h)).collect();
        let mut reached = g.reach(&unblocked);
        let mut sizes: HashMap<u64, usize> = HashMap::new();
        let mut roots: Vec<Root> = unblocked
            .iter()
            .map(|&h| g.root(h, &by_id, &mut sizes, false))
            .collect();
        // Holders reached from no root wait on each other: a cycle.
        for &h in &holders {
            if !reached.contains(&h) {
                reached.extend(g.reach(&[h]));
                roots.push(g.root(h, &by_id, &mut sizes, true));
            }
        }
        roots.sort_by(|a, b| {
            b.total
                .cmp(&a.total)
                .then(b.direct.cmp(&a.direct))
                .then(time(&b.id).cmp(&time(&a.id)))
                .then(a.id.cmp(&b.id))
        });
        g.root_ids = roots.iter().map(|r| r.id).collect();
        g.roots = roots;
        g.unheld = waiting
            .iter()
            .filter(|s| s.blocked_by.is_empty() && !g.waiters.contains_key(&s.id))
            .map(|s| s.id)
            .collect();
        g.unheld
            .sort_unstable_by(|a, b| time(b).cmp(&time(a)).then(a.cmp(b)));
        let members = waiting.iter().map(|s| s.id).chain(holders);
        g.positions = members
            .filter_map(|id| position.get(&id).map(|&p| (id, p)))
            .collect();
        g
    }

    /// Where session `id` is in the snapshot's sessions, when it is in the
    /// graph (waiting, or waited on).
    pub fn position(&self, id: u64) -> Option<usize> {
        self.positions.get(&id).copied()
    }

    /// The root entry of holder `id`; marks what it reaches.
    /// Every session reachable from `starts` through the waits on them,
    /// `starts` included: one walk, however many starts.
    fn reach(&self, starts: &[u64]) -> HashSet<u64> {
        let mut seen: HashSet<u64> = starts.iter().copied().collect();
        let mut queue: VecDeque<u64> = starts.iter().copied().collect();
        while let Some(h) = queue.pop_front() {
            for &w in self.waiters_of(h) {
                if seen.insert(w) {
                    queue.push_back(w);
                }
            }
        }
        seen
    }

    /// The root entry of holder `id`. A root with one direct waiter (the
    /// usual case: many transactions that may hold up one ALTER) counts its
    /// waiters from that waiter's count, computed once in `sizes`.
    fn root(&self, id: u64, by_id: &ById, sizes: &mut HashMap<u64, usize>, on_cycle: bool) -> Root {
        let direct = self.waiters_of(id);
        let mut holds: Vec<Held> = Vec::new();
        let mut certain = true;
        for w in direct {
            if let Some(wait) = by_id.get(w).and_then(|s| s.wait.as_ref()) {
                certain &= wait.certain;
                let held = Held {
                    kind: wait.kind,
                    object: wait.object.clone(),
                };
                if !holds.contains(&held) {
                    holds.push(held);
                }
            }
        }
        holds.sort();
        let total = match direct {
            // A root waits on nobody, so it is below no one: exact.
            [w] if !on_cycle => 1 + *sizes.entry(*w).or_insert_with(|| self.below(*w).len()),
            _ => self.below(id).len(),
        };
        Root {
            id,
            direct: direct.len(),
            total,
            holds,
            certain,
            waits_unseen: by_id.get(&id).is_some_and(|s| s.wait.is_some()),
            on_cycle,
        }
    }

    /// Every session waiting on `id`, directly or down the chain (not `id`).
    pub fn below(&self, id: u64) -> HashSet<u64> {
        let mut seen: HashSet<u64> = HashSet::new();
        let mut queue: VecDeque<u64> = VecDeque::from([id]);
        while let Some(h) = queue.pop_front() {
            for &w in self.waiters_of(h) {
                if w != id && seen.insert(w) {
                    queue.push_back(w);
                }
            }
        }
        seen
    }

    /// The longest chain that ends at `id`: `[waiter, ..., id]` from a
    /// session furthest down (the first found, so the longest waiting at
    /// each level) up to `id`; just `[id]` when nobody waits on it. One walk.
    pub fn deepest_chain(&self, id: u64) -> Vec<u64> {
        self.walk(id).1
    }

    /// One walk down from `id`: every session waiting on it, directly or
    /// down the chain (as [`Graph::below`], in walk order), and the
    /// deepest chain (as [`Graph::deepest_chain`]).
    pub fn walk(&self, id: u64) -> (Vec<u64>, Vec<u64>) {
        let mut order: Vec<u64> = Vec::new();
        let mut parent: HashMap<u64, u64> = HashMap::new();
        let mut queue: VecDeque<(u64, usize)> = VecDeque::from([(id, 0)]);
        let mut deepest = (id, 0);
        while let Some((h, depth)) = queue.pop_front() {
            for &w in self.waiters_of(h) {
                if w != id && !parent.contains_key(&w) {
                    parent.insert(w, h);
                    order.push(w);
                    queue.push_back((w, depth + 1));
                    if depth + 1 > deepest.1 {
                        deepest = (w, depth + 1);
                    }
                }
            }
        }
        let mut chain = vec![deepest.0];
        let mut at = deepest.0;
        while let Some(&p) = parent.get(&at) {
            chain.push(p);
            at = p;
        }
        (order, chain)
    }

    /// The sessions waiting on `id` directly, longest wait first.
    pub fn waiters_of(&self, id: u64) -> &[u64] {
        self.waiters.get(&id).map_or(&[], Vec::as_slice)
    }

    /// True when `id` is a root blocker.
    pub fn is_root(&self, id: u64) -> bool {
        self.root_ids.contains(&id)
    }

    /// The root entry of `id`, if it is one.
    pub fn root_of(&self, id: u64) -> Option<&Root> {
        self.roots.iter().find(|r| r.id == id)
    }

    /// True when nobody waits for a lock.
    pub fn is_empty(&self) -> bool {
        self.waiting == 0
    }

    /// From `id` up to its root, following each session's first holder:
    /// `[id, holder, ..., root]` (just `[id]` when it waits on nobody known).
    pub fn chain(&self, id: u64) -> Vec<u64> {
        let mut out = vec![id];
        let mut at = id;
        while let Some(&h) = self.first_holder.get(&at) {
            if out.contains(&h) || out.len() > 64 {
                break;
            }
            out.push(h);
            at = h;
        }
        out
    }

    /// The locks tree: each root, its waiters indented below it (a waiter
    /// whose waiters are listed already is marked `Listed`), collapsed past
    /// `max_depth` levels into a `More` row; then the waiters with no known
    /// holder. At most about `max_rows` rows; the rest is counted.
    pub fn tree(&self, max_depth: u8, max_rows: usize) -> Vec<TreeRow> {
        let mut out: Vec<TreeRow> = Vec::new();
        let mut expanded: HashSet<u64> = HashSet::new();
        let mut listed = 0usize;
        for root in &self.roots {
            if out.len() >= max_rows {
                break;
            }
            out.push(TreeRow {
                id: root.id,
                depth: 0,
                kind: TreeRowKind::Root,
                direct: root.direct,
            });
            expanded.insert(root.id);
            self.subtree(root.id, 1, max_depth, max_rows, &mut expanded, &mut out);
            listed += 1;
        }
        if listed < self.roots.len() {
            let hidden: usize = self.roots[listed..].iter().map(|r| r.total + 1).sum();
            out.push(TreeRow {
                id: 0,
                depth: 0,
                kind: TreeRowKind::More { hidden },
                direct: 0,
            });
        }
        if !self.unheld.is_empty() {
            out.push(TreeRow {
                id: 0,
                depth: 0,
                kind: TreeRowKind::Unheld {
                    count: self.unheld.len(),
                },
                direct: 0,
            });
            let room = max_rows.saturating_sub(out.len()).max(1);
            for &id in self.unheld.iter().take(room) {
                out.push(TreeRow {
                    id,
                    depth: 1,
                    kind: TreeRowKind::Waiter,
                    direct: 0,
                });
            }
            if self.unheld.len() > room {
                out.push(TreeRow {
                    id: 0,
                    depth: 1,
                    kind: TreeRowKind::More {
                        hidden: self.unheld.len() - room,
                    },
                    direct: 0,
                });
            }
        }
        out
    }

    /// The waiters below `id`, depth first (explicit stack: chains can be long).
    fn subtree(
        &self,
        id: u64,
        depth: u8,
        max_depth: u8,
        max_rows: usize,
        expanded: &mut HashSet<u64>,
        out: &mut Vec<TreeRow>,
    ) {
        let mut stack: Vec<(u64, u8)> = self
            .waiters_of(id)
            .iter()
            .rev()
            .map(|&w| (w, depth))
            .collect();
        while let Some((w, d)) = stack.pop() {
            if out.len() >= max_rows {
                // Count what is left under this root, once.
                let hidden = stack.len() + 1;
                out.push(TreeRow {
                    id: 0,
                    depth: d,
                    kind: TreeRowKind::More { hidden },
                    direct: 0,
                });
                return;
            }
            let direct = self.waiters_of(w).len();
            if direct > 0 && !expanded.insert(w) {
                out.push(TreeRow {
                    id: w,
                    depth: d,
                    kind: TreeRowKind::Listed,
                    direct,
                });
                continue;
            }
            out.push(TreeRow {
                id: w,
                depth: d,
                kind: TreeRowKind::Waiter,
                direct,
            });
            if direct == 0 {
                continue;
            }
            if d >= max_depth {
                let hidden = self.below(w).len();
                out.push(TreeRow {
                    id: 0,
                    depth: d + 1,
                    kind: TreeRowKind::More { hidden },
                    direct: 0,
                });
                continue;
            }
            stack.extend(self.waiters_of(w).iter().rev().map(|&c| (c, d + 1)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locks::Wait;

    fn s(id: u64, secs: u64, blocked_by: &[u64], kind: Option<WaitKind>) -> Session {
        Session {
            id,
            time_ms: secs * 1000,
            blocked_by: blocked_by.to_vec(),
            wait: kind.map(|kind| Wait {
                kind,
                object: Some("appdb.t".into()),
                certain: false,
                why: String::new(),
            }),
            ..Session::default()
        }
    }

    /// Idle transaction 1, ALTER 2 waits on it, SELECTs 3..=22 on the ALTER.
    fn pileup() -> Vec<Session> {
        let mut v = vec![
            s(1, 300, &[], None),
            s(2, 60, &[1], Some(WaitKind::Metadata)),
        ];
        for id in 3..=22 {
            v.push(s(id, 50 - id, &[2], Some(WaitKind::Metadata)));
        }
        v.push(s(99, 1, &[], None));
        v
    }

    #[test]
    fn the_root_of_a_metadata_pileup_is_the_idle_transaction() {
        let g = Graph::build(&pileup());
        assert_eq!(g.waiting, 21);
        assert_eq!(g.roots.len(), 1);
        let r = &g.roots[0];
        assert_eq!((r.id, r.direct, r.total), (1, 1, 21));
        assert_eq!(r.holds[0].describe(), "metadata lock on appdb.t");
        assert!(!r.certain && !r.waits_unseen && !r.on_cycle);
        assert!(g.is_root(1) && !g.is_root(2));
        assert_eq!(g.chain(17), vec![17, 2, 1]);
        assert_eq!(
            g.deepest_chain(1),
            vec![3, 2, 1],
            "the longest waiting at depth 2"
        );
        assert_eq!(g.deepest_chain(22), vec![22]);
        let (below, _) = g.walk(1);
        assert_eq!(below.len(), 21);
        assert_eq!(below.iter().copied().collect::<HashSet<u64>>(), g.below(1));
        assert_eq!(g.chain(1), vec![1]);
        assert_eq!(g.waiters_of(2).len(), 20);
        // Longest wait first.
        assert_eq!(g.waiters_of(2)[0], 3);
        assert!(g.unheld.is_empty());
        assert_eq!(g.position(1), Some(0));
        assert_eq!(g.position(17), Some(16));
        assert_eq!(g.position(99), None, "not in the graph");
    }

    #[test]
    fn tree_lists_roots_then_waiters_and_collapses_deep_chains() {
        let g = Graph::build(&pileup());
        let rows = g.tree(3, 1000);
        assert_eq!(rows[0].kind, TreeRowKind::Root);
        assert_eq!((rows[1].id, rows[1].depth, rows[1].direct), (2, 1, 20));
        assert_eq!(rows.len(), 22);
        let shallow = g.tree(1, 1000);
        assert_eq!(shallow.len(), 3);
        assert_eq!(shallow[2].kind, TreeRowKind::More { hidden: 20 });
        let capped = g.tree(3, 5);
        assert!(capped.len() <= 7);
        assert!(matches!(
            capped.last().map(|r| r.kind),
            Some(TreeRowKind::More { .. })
        ));
    }

    #[test]
    fn several_holders_share_their_waiters_once_in_the_tree() {
        // ALTER 3 waits on two open transactions 1 and 2; SELECTs 4, 5 on it.
        let v = vec![
            s(1, 100, &[], None),
            s(2, 90, &[], None),
            s(3, 50, &[1, 2], Some(WaitKind::Metadata)),
            s(4, 40, &[3], Some(WaitKind::Metadata)),
            s(5, 30, &[3], Some(WaitKind::Metadata)),
        ];
        let g = Graph::build(&v);
        assert_eq!(g.roots.len(), 2);
        assert!(g.roots.iter().all(|r| r.total == 3));
        let rows = g.tree(3, 100);
        let listed: Vec<_> = rows
            .iter()
            .filter(|r| r.kind == TreeRowKind::Listed)
            .collect();
        assert_eq!(listed.len(), 1, "{rows:?}");
        assert_eq!(rows.len(), 2 + 3 + 1);
    }

    #[test]
    fn unheld_waiters_cycles_and_missing_holders() {
        // 1 waits with no known holder and nobody on it; 2 <-> 3 wait on each
        // other; 4 waits on 50, which is not in the processlist.
        let v = vec![
            s(1, 10, &[], Some(WaitKind::GlobalRead)),
            s(2, 20, &[3], Some(WaitKind::Row)),
            s(3, 30, &[2], Some(WaitKind::Row)),
            s(4, 5, &[50], Some(WaitKind::Row)),
            s(6, 5, &[], Some(WaitKind::Metadata)),
            s(7, 4, &[6], Some(WaitKind::Metadata)),
        ];
        let g = Graph::build(&v);
        assert_eq!(g.unheld, vec![1]);
        let ids: Vec<u64> = g.roots.iter().map(|r| r.id).collect();
        assert!(ids.contains(&50));
        assert!(ids.contains(&6));
        assert!(g.roots.iter().any(|r| r.on_cycle));
        assert!(g.root_of(6).is_some_and(|r| r.waits_unseen));
        let c = g.chain(2);
        assert_eq!(c, vec![2, 3], "a cycle stops");
        let rows = g.tree(3, 100);
        assert!(
            rows.iter()
                .any(|r| r.kind == TreeRowKind::Unheld { count: 1 })
        );
        assert!(Graph::build(&[]).is_empty());
    }
}
