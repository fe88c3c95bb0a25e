//! The words: each rule's evidence becomes a [`Finding`] here (one file per
//! rule), its numbers taken from the evidence and the rules' constants, never
//! typed twice. The phrases several rules use are below.

mod headroom;
mod leak;
mod long_running;
mod pool;
mod spike;
mod timeouts;

pub(super) use self::{
    headroom::headroom, leak::leak, long_running::long_running, pool::pool, spike::spike,
    timeouts::timeouts,
};

use std::fmt::Display;

use super::fixes::{Fix, WaitTimeout, step};
use super::headroom::{Cause, Headroom};
use super::leak::Leak;
use super::long_running::LongRunning;
use super::pool::{POOL_STEADY, POOL_TARGET, Pools};
use super::spike::{SPIKE_LEVEL_QUANTILE, Spike, Trigger};
use super::timeouts::Timeouts;
use super::units::{agree, count, pct, rate, ratio, ratio_u64};
use super::{Finding, FindingKind};
use crate::action::Action;
use crate::snapshot::Session;
use crate::text::plain;
use crate::text::short_ms;

/// Hosts listed in the leak evidence.
const LEAK_TOP_HOSTS: usize = 3;
/// Statements listed in the long-running evidence.
const LONG_TOP: usize = 3;
/// Query text shown per statement, in characters.
const QUERY_CHARS: usize = 60;
/// Hosts listed in the pool evidence.
const POOL_LIST: usize = 8;
/// Characters of a host name in evidence.
const HOST_CHARS: usize = 40;

/// `Hosts: a (3), b (2), and 4 more`: the first `shown` of `hosts`.
fn hosts_line<N: Display>(hosts: &[(&str, N)], shown: usize) -> String {
    let listed: Vec<String> = hosts
        .iter()
        .take(shown)
        .map(|(h, n)| format!("{} ({n})", plain(h, HOST_CHARS)))
        .collect();
    let more = hosts.len().saturating_sub(shown);
    if more > 0 {
        format!("Hosts: {}, and {more} more", listed.join(", "))
    } else {
        format!("Hosts: {}", listed.join(", "))
    }
}

/// `a`, `a and b`, `a, b and c`.
fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A duration in whole seconds, short (`8h`, `6m40s`).
fn secs(s: u64) -> String {
    short_ms(s.saturating_mul(1000))
}
