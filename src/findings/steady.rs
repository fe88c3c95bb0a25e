//! Steadier findings for a live screen. During a spike the findings of one
//! poll and the next differ: one appears, vanishes, turns critical and back.
//! [`Steady`] holds each finding's place and severity for a few seconds
//! unless it becomes more severe, so the strip stays readable. Pure: the
//! caller passes the time of the snapshot the findings come from.

use std::time::{Duration, SystemTime};

use super::{Finding, FindingKind, Severity};

/// How long a finding keeps its severity after it eased, and stays listed
/// after it vanished.
pub const STEADY_HOLD: Duration = Duration::from_secs(5);

/// One finding as shown.
#[derive(Debug, Clone)]
struct Held {
    /// The latest version of the finding.
    finding: Finding,
    /// The severity shown: never below the finding's own.
    severity: Severity,
    /// When the shown severity was last reached.
    since: SystemTime,
    /// When the finding was last diagnosed.
    seen: SystemTime,
    /// Order of first appearance, for a stable place among equals.
    order: u64,
}

impl Held {
    fn is(&self, f: &Finding) -> bool {
        self.finding.kind == f.kind && self.finding.subject == f.subject
    }
}

/// Holds findings' places and severities across snapshots.
#[derive(Debug, Clone)]
pub struct Steady {
    hold: Duration,
    held: Vec<Held>,
    next_order: u64,
}

impl Default for Steady {
    fn default() -> Steady {
        Steady::new(STEADY_HOLD)
    }
}

/// Time from `earlier` to `now`; a clock that went backwards counts as
/// long ago, so nothing is held forever.
fn elapsed(now: SystemTime, earlier: SystemTime) -> Duration {
    now.duration_since(earlier).unwrap_or(Duration::MAX)
}

impl Steady {
    /// Holds for `hold` (see [`STEADY_HOLD`]).
    pub fn new(hold: Duration) -> Steady {
        Steady {
            hold,
            held: Vec::new(),
            next_order: 0,
        }
    }

    /// Takes the findings of the snapshot taken at `now` and returns those to
    /// show: a more severe finding shows at once; a finding that eased keeps
    /// its severity, and one that vanished stays (as last seen), until `hold`
    /// has passed. Sorted most severe first, then by kind, then by first
    /// appearance.
    pub fn update(&mut self, now: SystemTime, fresh: Vec<Finding>) -> Vec<Finding> {
        for f in fresh {
            match self.held.iter_mut().find(|h| h.is(&f)) {
                Some(h) => {
                    if f.severity >= h.severity || elapsed(now, h.since) >= self.hold {
                        h.severity = f.severity;
                        h.since = now;
                    }
                    h.seen = now;
                    h.finding = f;
                }
                None => {
                    self.held.push(Held {
                        severity: f.severity,
                        since: now,
                        seen: now,
                        order: self.next_order,
                        finding: f,
                    });
                    self.next_order += 1;
                }
            }
        }
        let hold = self.hold;
        self.held
            .retain(|h| h.seen == now || elapsed(now, h.seen) < hold);
        self.held.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.finding.kind.rank().cmp(&b.finding.kind.rank()))
                .then(a.order.cmp(&b.order))
        });
        self.held
            .iter()
            .map(|h| Finding {
                severity: h.severity,
                ..h.finding.clone()
            })
            .collect()
    }

    /// Forgets what is held: the next update shows its findings as they are.
    /// For right after a kill, when a finding that vanished or eased is the
    /// news, not a flicker to hide.
    pub fn forget(&mut self) {
        self.held.clear();
    }

    /// The kinds currently shown, in order (for tests and debugging).
    pub fn kinds(&self) -> Vec<FindingKind> {
        self.held.iter().map(|h| h.finding.kind).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;
    use FindingKind::{Headroom, Leak, Spike};
    use Severity::{Critical, Info, Warning};

    fn finding(kind: FindingKind, severity: Severity, subject: &str) -> Finding {
        Finding {
            kind,
            severity,
            title: format!("{} {}", kind.name(), severity.name()),
            evidence: Vec::new(),
            fix: Vec::new(),
            subject: subject.to_string(),
        }
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    fn shown(found: &[Finding]) -> Vec<(FindingKind, Severity)> {
        found.iter().map(|f| (f.kind, f.severity)).collect()
    }

    #[test]
    fn more_severe_at_once_less_severe_after_the_hold() {
        let mut s = Steady::new(Duration::from_secs(5));
        let out = s.update(at(0), vec![finding(Headroom, Warning, "")]);
        assert_eq!(shown(&out), [(Headroom, Warning)]);
        let out = s.update(at(1), vec![finding(Headroom, Critical, "")]);
        assert_eq!(shown(&out), [(Headroom, Critical)]);
        // Eased: still critical for the hold, with the new text.
        let out = s.update(at(2), vec![finding(Headroom, Warning, "")]);
        assert_eq!(shown(&out), [(Headroom, Critical)]);
        assert_eq!(out[0].title, "headroom warning");
        let out = s.update(at(5), vec![finding(Headroom, Warning, "")]);
        assert_eq!(shown(&out), [(Headroom, Critical)]);
        let out = s.update(at(6), vec![finding(Headroom, Warning, "")]);
        assert_eq!(shown(&out), [(Headroom, Warning)]);
    }

    #[test]
    fn a_flickering_finding_keeps_its_place() {
        let mut s = Steady::new(Duration::from_secs(5));
        let both = || {
            vec![
                finding(Headroom, Critical, ""),
                finding(Spike, Critical, ""),
            ]
        };
        assert_eq!(
            shown(&s.update(at(0), both())),
            [(Headroom, Critical), (Spike, Critical)]
        );
        // The spike eases and the headroom vanishes for a poll: nothing moves.
        let out = s.update(at(1), vec![finding(Spike, Warning, "")]);
        assert_eq!(shown(&out), [(Headroom, Critical), (Spike, Critical)]);
        assert_eq!(
            shown(&s.update(at(2), both())),
            [(Headroom, Critical), (Spike, Critical)]
        );
        // Gone for longer than the hold: gone.
        let _ = s.update(at(3), vec![finding(Spike, Warning, "")]);
        let out = s.update(at(9), vec![finding(Spike, Info, "")]);
        assert_eq!(shown(&out), [(Spike, Info)]);
        assert_eq!(s.kinds(), [Spike]);
    }

    #[test]
    fn leaks_of_different_accounts_are_held_apart() {
        let mut s = Steady::default();
        let out = s.update(
            at(0),
            vec![
                finding(Leak, Warning, "app"),
                finding(Leak, Warning, "batch"),
            ],
        );
        assert_eq!(out[0].subject, "app");
        // Same severity, other order from the rules: the first seen stays first.
        let out = s.update(
            at(1),
            vec![
                finding(Leak, Warning, "batch"),
                finding(Leak, Warning, "app"),
            ],
        );
        assert_eq!(out[0].subject, "app");
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn after_forget_the_next_update_shows_findings_as_they_are() {
        let mut s = Steady::new(Duration::from_secs(5));
        let _ = s.update(at(0), vec![finding(Leak, Critical, "app")]);
        s.forget();
        let out = s.update(at(1), vec![finding(Headroom, Warning, "")]);
        assert_eq!(shown(&out), [(Headroom, Warning)]);
    }

    #[test]
    fn a_clock_going_backwards_holds_nothing_forever() {
        let mut s = Steady::new(Duration::from_secs(5));
        let _ = s.update(at(100), vec![finding(Headroom, Critical, "")]);
        let out = s.update(at(50), vec![finding(Headroom, Warning, "")]);
        assert_eq!(shown(&out), [(Headroom, Warning)]);
        let out = s.update(at(40), Vec::new());
        assert!(out.is_empty());
    }
}
