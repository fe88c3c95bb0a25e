//! Typed moments of a replay (`--at`, and the go-to prompt), all UTC:
//! `03:12` or `03:12:05` (that time of day, on the last recorded day that
//! has it), `2026-11-30 03:12:05` (also with `T`, `Z`, without seconds),
//! `-10m` (that long before the end of the recording), `start`, `end`.

use crate::record::clock::{DAY_MS, Utc};

/// The moment `text` names, in ms since the epoch, for a recording that
/// spans `first..=last`. The error is one line for the user.
pub fn parse(text: &str, first: i64, last: i64) -> Result<i64, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "cannot read the time {:?}: write 03:12, 03:12:05, 2026-11-30 03:12:05 (UTC), -10m, start or end",
            crate::text::one_line(t, 40)
        )
    };
    match t {
        "start" | "begin" => return Ok(first),
        "end" | "now" => return Ok(last),
        _ => {}
    }
    if let Some(ago) = t.strip_prefix('-') {
        let d = humantime::parse_duration(ago.trim()).map_err(|_| bad())?;
        let ms = i64::try_from(d.as_millis()).map_err(|_| bad())?;
        return Ok(last.saturating_sub(ms));
    }
    let t = t.trim_end_matches('Z').trim_end_matches(" UTC").trim();
    let (date, time) = match t.split_once(['T', ' ']) {
        Some((d, tm)) => (Some(d), tm.trim()),
        None => (None, t),
    };
    let tod = time_of_day(time).ok_or_else(bad)?;
    match date {
        Some(d) => {
            let day = parse_date(d).ok_or_else(bad)?;
            Ok(day + tod)
        }
        None => {
            // The last day of the recording that has this time in it.
            let mut day = last.div_euclid(DAY_MS) * DAY_MS;
            if day + tod > last {
                day -= DAY_MS;
            }
            if day + tod < first {
                day += DAY_MS;
            }
            Ok(day + tod)
        }
    }
}

/// `HH:MM[:SS[.mmm]]` as ms after midnight.
fn time_of_day(s: &str) -> Option<i64> {
    let mut parts = s.split(':');
    let h: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let sec: f64 = match parts.next() {
        Some(x) => x.parse().ok()?,
        None => 0.0,
    };
    if parts.next().is_some() || !(0..24).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    if !(0.0..60.0).contains(&sec) {
        return None;
    }
    Some(h * 3_600_000 + m * 60_000 + (sec * 1000.0).round() as i64)
}

/// `YYYY-MM-DD` as the ms of its midnight.
fn parse_date(s: &str) -> Option<i64> {
    let mut p = s.split('-');
    let y: i64 = p.next()?.parse().ok()?;
    let m: u32 = p.next()?.parse().ok()?;
    let d: u32 = p.next()?.parse().ok()?;
    if p.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(
        Utc {
            year: y,
            month: m,
            day: d,
            hour: 0,
            minute: 0,
            second: 0,
            milli: 0,
        }
        .to_ms(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-30 03:12:05 UTC
    const T: i64 = 1_796_008_325_000;

    #[test]
    fn typed_times() {
        let (first, last) = (T - 3 * 3_600_000, T + 3_600_000);
        assert_eq!(parse("2026-11-30 03:12:05", first, last), Ok(T));
        assert_eq!(parse("2026-11-30T03:12:05Z", first, last), Ok(T));
        assert_eq!(parse("03:12:05", first, last), Ok(T));
        assert_eq!(parse("03:12", first, last), Ok(T - 5_000));
        assert_eq!(parse("-10m", first, last), Ok(last - 600_000));
        assert_eq!(parse("end", first, last), Ok(last));
        // 23:30 is only in the recording on the day before.
        assert_eq!(
            parse("23:30", T - 5 * 3_600_000, last),
            Ok(T - (3 * 3_600_000 + 42 * 60_000 + 5_000))
        );
        for bad in [
            "25:00",
            "soon",
            "2026-13-01 00:00",
            "-forever",
            "03:12:05:01",
        ] {
            assert!(parse(bad, first, last).is_err(), "{bad}");
        }
    }
}
