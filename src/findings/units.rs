//! Small arithmetic and number forms the rules and their wording share.

/// `x` rounded up to a multiple of 10; 0 for anything not positive.
pub(super) fn ceil10(x: f64) -> u64 {
    if x.is_nan() || x <= 0.0 {
        0
    } else {
        // `as` saturates at u64::MAX.
        ((x / 10.0).ceil() * 10.0) as u64
    }
}

/// `part / whole`, 0 when `whole` is 0.
pub(super) fn ratio(part: usize, whole: usize) -> f64 {
    ratio_u64(part as u64, whole as u64)
}

/// `part / whole`, 0 when `whole` is 0.
pub(super) fn ratio_u64(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// A share as a whole percentage: `0.8` -> `80%`.
pub(super) fn pct(r: f64) -> String {
    format!("{:.0}%", r * 100.0)
}

/// Bytes in MiB, one decimal under 10.
pub(super) fn mib(bytes: u64) -> String {
    let m = bytes as f64 / (1024.0 * 1024.0);
    if m < 10.0 {
        format!("{m:.1} MiB")
    } else {
        format!("{m:.0} MiB")
    }
}

/// A per-second rate, one decimal under 10.
pub(super) fn rate(r: f64) -> String {
    if r < 10.0 {
        format!("{r:.1}")
    } else {
        format!("{r:.0}")
    }
}

/// Median of finite values; `None` when empty. Reorders `v`.
pub(super) fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 0 {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    })
}
