//! Small arithmetic and number forms the rules and their wording share.

/// `x` rounded up to a multiple of `step`; 0 for anything not positive.
pub(super) fn ceil_to(x: f64, step: u64) -> u64 {
    let step = step.max(1) as f64;
    if x.is_nan() || x <= 0.0 {
        0
    } else {
        // `as` saturates at u64::MAX.
        ((x / step).ceil() * step) as u64
    }
}

/// `n` and the noun that fits it: `1 session`, `2 sessions`.
pub(super) fn count(n: impl TryInto<u64>, one: &str, many: &str) -> String {
    let n = n.try_into().unwrap_or(u64::MAX);
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The word that fits `n`: `one` for 1, else `many` ("holds"/"hold").
pub(super) fn agree<'a>(n: impl TryInto<u64>, one: &'a str, many: &'a str) -> &'a str {
    if n.try_into().ok() == Some(1) {
        one
    } else {
        many
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

/// The `q` quantile (0..=1, nearest rank) of finite values; `None` when
/// empty. Reorders `v`.
pub(super) fn quantile(v: &mut [f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = if q.is_nan() { 0.5 } else { q.clamp(0.0, 1.0) };
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v.get(i.min(v.len() - 1)).copied()
}

/// Least-squares slope of `(x, y)` points, per unit of x; 0 when it is
/// undefined (fewer than two distinct x).
pub(super) fn slope_per_s(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if points.len() < 2 {
        return 0.0;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let (num, den) = points.iter().fold((0.0, 0.0), |(num, den), (x, y)| {
        (
            num + (x - mean_x) * (y - mean_y),
            den + (x - mean_x) * (x - mean_x),
        )
    });
    if den > 0.0 && (num / den).is_finite() {
        num / den
    } else {
        0.0
    }
}
