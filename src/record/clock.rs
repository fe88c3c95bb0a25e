//! Wall-clock times of a recording, always in UTC: file names, the replay
//! header, `--at`. Civil dates from days since the epoch (Howard Hinnant's
//! algorithm), so no time-zone database is needed.

use std::time::SystemTime;

use super::model::{from_ms, to_ms};

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// (year, month, day) of a day number (days since 1970-01-01).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The day number of a civil date (days since 1970-01-01).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A moment split into UTC fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub milli: u32,
}

impl Utc {
    /// The fields of `ms` since the epoch.
    pub fn of_ms(ms: i64) -> Utc {
        let days = ms.div_euclid(DAY_MS);
        let rest = ms.rem_euclid(DAY_MS);
        let (year, month, day) = civil_from_days(days);
        Utc {
            year,
            month,
            day,
            hour: (rest / 3_600_000) as u32,
            minute: (rest / 60_000 % 60) as u32,
            second: (rest / 1_000 % 60) as u32,
            milli: (rest % 1_000) as u32,
        }
    }

    /// The fields of `t`.
    pub fn of(t: SystemTime) -> Utc {
        Utc::of_ms(to_ms(t))
    }

    /// Back to ms since the epoch.
    pub fn to_ms(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * DAY_MS
            + i64::from(self.hour) * 3_600_000
            + i64::from(self.minute) * 60_000
            + i64::from(self.second) * 1_000
            + i64::from(self.milli)
    }

    /// `2026-11-30 03:12:05`.
    pub fn seconds(self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `20261130-031205`, for file names.
    pub fn compact(self) -> String {
        format!(
            "{:04}{:02}{:02}-{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `03:12:05`.
    pub fn time(self) -> String {
        format!("{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
    }
}

/// `2026-11-30 03:12:05 UTC`.
pub fn show(t: SystemTime) -> String {
    format!("{} UTC", Utc::of(t).seconds())
}

/// RFC 3339 with milliseconds: `2026-11-30T03:12:05.123Z`.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// RFC 3339 in whole seconds: `2026-11-30T03:12:05Z` (log lines).
pub fn rfc3339_seconds(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// The moment of a `compact` string (`20261130-031205`).
pub fn parse_compact(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 15
        || b[8] != b'-'
        || !s
            .bytes()
            .enumerate()
            .all(|(i, c)| i == 8 || c.is_ascii_digit())
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    let utc = Utc {
        year: i64::from(n(0..4)?),
        month: n(4..6)?,
        day: n(6..8)?,
        hour: n(9..11)?,
        minute: n(11..13)?,
        second: n(13..15)?,
        milli: 0,
    };
    Some(from_ms(utc.to_ms()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for z in [-1_000_000, -1, 0, 59, 60, 11_016, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        let t = Utc::of_ms(1_796_008_325_123);
        assert_eq!(t.seconds(), "2026-11-30 03:12:05");
        assert_eq!(t.milli, 123);
        assert_eq!(t.to_ms(), 1_796_008_325_123);
        assert_eq!(
            parse_compact("20261130-031205").map(to_ms),
            Some(1_796_008_325_000)
        );
        assert_eq!(parse_compact("2026113-0031205"), None);
    }
}
