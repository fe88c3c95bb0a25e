//! The rungs `+` and `-` step through: a kill preview's threshold and the
//! refresh interval.

use std::time::Duration;

use super::preview::PlanKind;

/// The threshold ladder of a preview, before the configured value joins it.
pub const LADDER_SECS: [u64; 17] = [
    1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 43200, 86400, 172800,
];

/// The lowest rung of an idle kill's ladder, unless the configured
/// threshold is lower: below it, an idle kill takes the connections a busy
/// pool is between uses of.
pub const IDLE_FLOOR: Duration = Duration::from_secs(10);

/// The refresh intervals `+`/`-` step through in the table.
pub const INTERVALS: [Duration; 6] = [
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(5),
    Duration::from_secs(10),
];

/// The threshold rungs of a `kind` preview whose configured threshold is
/// `configured`: the ladder from the floor up, and `configured` (below the
/// floor too: the user asked for it).
pub fn rungs(kind: PlanKind, configured: Duration) -> Vec<Duration> {
    let floor = match kind {
        PlanKind::Idle => IDLE_FLOOR,
        _ => Duration::ZERO,
    };
    let mut rungs: Vec<Duration> = LADDER_SECS
        .iter()
        .map(|&s| Duration::from_secs(s))
        .filter(|&d| d >= floor)
        .chain([configured])
        .collect();
    rungs.sort();
    rungs.dedup();
    rungs
}

/// The next rung after `current` up or down; `current` at either end.
pub fn step(current: Duration, up: bool, rungs: &[Duration]) -> Duration {
    let next = if up {
        rungs.iter().find(|&&r| r > current)
    } else {
        rungs.iter().rev().find(|&&r| r < current)
    };
    next.copied().unwrap_or(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(rungs: &[Duration]) -> Vec<f64> {
        rungs.iter().map(Duration::as_secs_f64).collect()
    }

    #[test]
    fn the_configured_threshold_is_a_rung_and_idle_kills_stop_at_the_floor() {
        let r = rungs(PlanKind::Idle, Duration::from_secs(20));
        assert_eq!(secs(&r[..4]), [10.0, 20.0, 30.0, 60.0]);
        let s = Duration::from_secs;
        assert_eq!(step(s(20), false, &r), s(10));
        assert_eq!(step(s(10), false, &r), s(10), "the floor holds");
        assert_eq!(step(s(20), true, &r), s(30));
        assert_eq!(step(s(172_800), true, &r), s(172_800), "the top holds");
        // Configured below the floor: that is the bottom.
        let low = rungs(PlanKind::Idle, s(2));
        assert_eq!(secs(&low[..2]), [2.0, 10.0]);
        // Long-running statements keep the short rungs.
        let long = rungs(PlanKind::Long, s(60));
        assert_eq!(long[0], s(1));
        // Not whole seconds.
        let odd = rungs(PlanKind::Idle, Duration::from_millis(1500));
        assert_eq!(odd[0], Duration::from_millis(1500));
    }

    #[test]
    fn intervals_step_from_anywhere() {
        let ms = Duration::from_millis;
        assert_eq!(step(ms(1000), true, &INTERVALS), ms(2000));
        assert_eq!(step(ms(1000), false, &INTERVALS), ms(500));
        assert_eq!(step(ms(3000), false, &INTERVALS), ms(2000));
        assert_eq!(step(ms(100), true, &INTERVALS), ms(250));
        assert_eq!(step(ms(250), false, &INTERVALS), ms(250));
        assert_eq!(step(ms(10_000), true, &INTERVALS), ms(10_000));
        assert_eq!(step(ms(60_000), false, &INTERVALS), ms(10_000));
    }
}
