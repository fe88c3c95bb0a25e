//! What a recording remembers of a snapshot, and how one moment becomes the
//! next: a [`State`] (the whole picture, as a keyframe stores it) and a
//! [`Delta`] (what changed since the previous moment).
//!
//! Sessions are stored with the instant their current command started
//! (`taken_at - time`) instead of their time, so a session whose only change
//! is that its time advanced is not in a delta at all. The writer computes a
//! delta and applies it to its own copy of the state with the same code the
//! reader uses, so both always hold the same picture.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::history::{HOSTS_PER_SAMPLE, Sample};
use crate::snapshot::{Privileges, ServerInfo, Session, Snapshot, Status, Variables};

use super::codec::{Dec, DecodeError, Enc};
use super::fields::{
    decode_meta, decode_variables, encode_meta, encode_variables, status_fields, status_from,
};

/// A stored time that is off from the live one by less than this is kept:
/// the servers report `Time` in whole seconds, taken a moment before
/// `taken_at`, so the derived time can never match it to the millisecond.
pub const TIME_SLACK_MS: i64 = 1_500;

/// Milliseconds since the Unix epoch (negative before it).
pub fn to_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// The instant `ms` after the Unix epoch.
pub fn from_ms(ms: i64) -> SystemTime {
    if ms >= 0 {
        UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    }
}

/// A session as a recording holds it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredSession {
    pub user: String,
    pub host: String,
    pub db: Option<String>,
    pub command: String,
    /// When the current command started, ms since the epoch.
    pub start_ms: i64,
    pub state: String,
    pub info: Option<String>,
    /// When the open transaction started, ms since the epoch.
    pub trx_start_ms: Option<i64>,
}

/// Field bits of a changed session in a delta.
mod field {
    pub const USER: u8 = 1;
    pub const HOST: u8 = 2;
    pub const DB: u8 = 4;
    pub const COMMAND: u8 = 8;
    pub const START: u8 = 16;
    pub const STATE: u8 = 32;
    pub const INFO: u8 = 64;
    pub const TRX: u8 = 128;
    pub const ALL: u8 = 255;
}

fn close(a: i64, b: i64) -> bool {
    (a - b).abs() < TIME_SLACK_MS
}

impl StoredSession {
    /// `s` as stored at `at_ms`; `prev` (the stored one) keeps its start
    /// instants when the live times agree with them.
    fn from_session(s: &Session, at_ms: i64, prev: Option<&StoredSession>) -> StoredSession {
        let start = at_ms.saturating_sub(i64::try_from(s.time_ms).unwrap_or(i64::MAX));
        let trx = s
            .trx_age_ms
            .map(|a| at_ms.saturating_sub(i64::try_from(a).unwrap_or(i64::MAX)));
        let (start_ms, trx_start_ms) = match prev {
            Some(p) => (
                if close(p.start_ms, start) {
                    p.start_ms
                } else {
                    start
                },
                match (p.trx_start_ms, trx) {
                    (Some(a), Some(b)) if close(a, b) => Some(a),
                    _ => trx,
                },
            ),
            None => (start, trx),
        };
        StoredSession {
            user: s.user.clone(),
            host: s.host.clone(),
            db: s.db.clone(),
            command: s.command.clone(),
            start_ms,
            state: s.state.clone(),
            info: s.info.clone(),
            trx_start_ms,
        }
    }

    /// The session at `at_ms`, its times derived from the start instants.
    pub fn to_session(&self, id: u64, at_ms: i64) -> Session {
        let age = |start: i64| u64::try_from(at_ms.saturating_sub(start)).unwrap_or(0);
        Session {
            id,
            user: self.user.clone(),
            host: self.host.clone(),
            db: self.db.clone(),
            command: self.command.clone(),
            time_ms: age(self.start_ms),
            state: self.state.clone(),
            info: self.info.clone(),
            trx_age_ms: self.trx_start_ms.map(age),
        }
    }

    /// The bits of the fields that differ from `old`.
    fn diff(&self, old: &StoredSession) -> u8 {
        let mut mask = 0;
        let mut set = |differs: bool, bit: u8| {
            if differs {
                mask |= bit;
            }
        };
        set(self.user != old.user, field::USER);
        set(self.host != old.host, field::HOST);
        set(self.db != old.db, field::DB);
        set(self.command != old.command, field::COMMAND);
        set(self.start_ms != old.start_ms, field::START);
        set(self.state != old.state, field::STATE);
        set(self.info != old.info, field::INFO);
        set(self.trx_start_ms != old.trx_start_ms, field::TRX);
        mask
    }

    /// Writes the fields in `mask`; instants relative to `at_ms`.
    fn encode(&self, mask: u8, at_ms: i64, e: &mut Enc) {
        if mask & field::USER != 0 {
            e.str(&self.user);
        }
        if mask & field::HOST != 0 {
            e.str(&self.host);
        }
        if mask & field::DB != 0 {
            e.opt_str(self.db.as_deref());
        }
        if mask & field::COMMAND != 0 {
            e.str(&self.command);
        }
        if mask & field::START != 0 {
            e.i64(at_ms - self.start_ms);
        }
        if mask & field::STATE != 0 {
            e.str(&self.state);
        }
        if mask & field::INFO != 0 {
            e.opt_str(self.info.as_deref());
        }
        if mask & field::TRX != 0 {
            match self.trx_start_ms {
                None => e.u8(0),
                Some(t) => {
                    e.u8(1);
                    e.i64(at_ms - t);
                }
            }
        }
    }

    /// Reads the fields in `mask` over `self`.
    fn decode(&mut self, mask: u8, at_ms: i64, d: &mut Dec) -> Result<(), DecodeError> {
        if mask & field::USER != 0 {
            self.user = d.str()?;
        }
        if mask & field::HOST != 0 {
            self.host = d.str()?;
        }
        if mask & field::DB != 0 {
            self.db = d.opt_str()?;
        }
        if mask & field::COMMAND != 0 {
            self.command = d.str()?;
        }
        if mask & field::START != 0 {
            self.start_ms = at_ms - d.i64()?;
        }
        if mask & field::STATE != 0 {
            self.state = d.str()?;
        }
        if mask & field::INFO != 0 {
            self.info = d.opt_str()?;
        }
        if mask & field::TRX != 0 {
            self.trx_start_ms = if d.bool()? {
                Some(at_ms - d.i64()?)
            } else {
                None
            };
        }
        Ok(())
    }

    /// The client host a sample counts this session under; `None` for a
    /// system thread (as `Sample::from_snapshot` counts).
    fn counted_host(&self) -> Option<String> {
        let probe = Session {
            user: self.user.clone(),
            host: self.host.clone(),
            command: self.command.clone(),
            ..Session::default()
        };
        (!probe.is_system()).then(|| probe.client_host().to_string())
    }
}

/// Who was polled, and as whom: changes only on a reconnect.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Meta {
    pub version: String,
    pub endpoint: String,
    pub own_id: u64,
    pub privileges: Privileges,
}

/// Everything a recording knows at one moment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    pub at_ms: i64,
    pub seq: u64,
    pub meta: Meta,
    pub variables: Variables,
    pub status: Status,
    pub poll_latency_us: u64,
    pub statements: u32,
    pub sessions: BTreeMap<u64, StoredSession>,
    /// Non-system sessions per client host, kept as sessions come and go.
    hosts: HashMap<String, u32>,
}

/// Delta flags.
const HAS_META: u8 = 1;
const HAS_VARIABLES: u8 = 2;

impl State {
    fn count(&mut self, s: &StoredSession, add: bool) {
        let Some(host) = s.counted_host() else {
            return;
        };
        if add {
            *self.hosts.entry(host).or_default() += 1;
        } else if let Some(n) = self.hosts.get_mut(&host) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.hosts.remove(&host);
            }
        }
    }

    fn insert(&mut self, id: u64, s: StoredSession) {
        self.count(&s, true);
        if let Some(old) = self.sessions.insert(id, s) {
            self.count(&old, false);
        }
    }

    fn remove(&mut self, id: u64) {
        if let Some(old) = self.sessions.remove(&id) {
            self.count(&old, false);
        }
    }

    /// The snapshot of this moment.
    pub fn to_snapshot(&self) -> Snapshot {
        Snapshot {
            seq: self.seq,
            taken_at: from_ms(self.at_ms),
            server: ServerInfo::from_version(&self.meta.version),
            variables: self.variables.clone(),
            status: self.status.clone(),
            sessions: self
                .sessions
                .iter()
                .map(|(&id, s)| s.to_session(id, self.at_ms))
                .collect(),
            own_id: self.meta.own_id,
            privileges: self.meta.privileges.clone(),
            poll_latency: Duration::from_micros(self.poll_latency_us),
            statements: self.statements,
            endpoint: self.meta.endpoint.clone(),
        }
    }

    /// The history sample of this moment, equal to
    /// `Sample::from_snapshot(&self.to_snapshot())` without building it.
    pub fn sample(&self) -> Sample {
        // The busiest first, ties by name; only the kept ones are copied.
        let order =
            |a: &(&String, u32), b: &(&String, u32)| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0));
        let mut top: Vec<(&String, u32)> = self.hosts.iter().map(|(h, &n)| (h, n)).collect();
        if top.len() > HOSTS_PER_SAMPLE {
            top.select_nth_unstable_by(HOSTS_PER_SAMPLE, order);
            top.truncate(HOSTS_PER_SAMPLE);
        }
        top.sort_by(order);
        let per_host: Vec<(String, u32)> = top.into_iter().map(|(h, n)| (h.clone(), n)).collect();
        let s = &self.status;
        Sample {
            at: from_ms(self.at_ms),
            uptime_s: s.uptime_s,
            threads_connected: s.threads_connected,
            threads_running: s.threads_running,
            max_connections: self.variables.max_connections,
            connections: s.connections,
            aborted_connects: s.aborted_connects,
            rejected: s.connection_errors_max_connections,
            per_host,
        }
    }

    /// The whole state as a keyframe payload.
    pub fn encode_keyframe(&self) -> Vec<u8> {
        let mut e = Enc::default();
        e.u64(self.seq);
        e.u64(self.poll_latency_us);
        e.u64(u64::from(self.statements));
        encode_meta(&self.meta, &mut e);
        encode_variables(&self.variables, &mut e);
        for n in status_fields(&self.status) {
            e.u64(n);
        }
        e.u64(self.sessions.len() as u64);
        let mut last = 0;
        for (&id, s) in &self.sessions {
            e.u64(id - last);
            last = id;
            s.encode(field::ALL, self.at_ms, &mut e);
        }
        e.buf
    }

    /// The state a keyframe taken at `at_ms` holds.
    pub fn decode_keyframe(at_ms: i64, payload: &[u8]) -> Result<State, DecodeError> {
        let mut d = Dec::new(payload);
        let mut st = State {
            at_ms,
            seq: d.u64()?,
            poll_latency_us: d.u64()?,
            statements: d.u32()?,
            meta: decode_meta(&mut d)?,
            variables: decode_variables(&mut d)?,
            ..State::default()
        };
        let mut f = [0u64; 8];
        for x in &mut f {
            *x = d.u64()?;
        }
        st.status = status_from(f);
        let n = d.u64()?;
        let mut id = 0u64;
        for _ in 0..n {
            id = id.checked_add(d.u64()?).ok_or(DecodeError("session id"))?;
            let mut s = StoredSession::default();
            s.decode(field::ALL, at_ms, &mut d)?;
            st.insert(id, s);
        }
        Ok(st)
    }

    /// The state of `snap`, with `self` as the moment before: sessions
    /// whose times agree keep their stored start instants.
    pub fn next(&self, snap: &Snapshot) -> State {
        let at_ms = to_ms(snap.taken_at);
        let mut st = State {
            at_ms,
            seq: snap.seq,
            meta: Meta {
                version: snap.server.version.clone(),
                endpoint: snap.endpoint.clone(),
                own_id: snap.own_id,
                privileges: snap.privileges.clone(),
            },
            variables: snap.variables.clone(),
            status: snap.status.clone(),
            poll_latency_us: u64::try_from(snap.poll_latency.as_micros()).unwrap_or(u64::MAX),
            statements: snap.statements,
            ..State::default()
        };
        for s in &snap.sessions {
            let stored = StoredSession::from_session(s, at_ms, self.sessions.get(&s.id));
            st.insert(s.id, stored);
        }
        st
    }

    /// The delta payload that turns `self` into `next`.
    pub fn encode_delta(&self, next: &State) -> Vec<u8> {
        let mut e = Enc::default();
        e.u64(next.seq);
        e.u64(next.poll_latency_us);
        e.u64(u64::from(next.statements));
        let mut flags = 0;
        if next.meta != self.meta {
            flags |= HAS_META;
        }
        if next.variables != self.variables {
            flags |= HAS_VARIABLES;
        }
        e.u8(flags);
        if flags & HAS_META != 0 {
            encode_meta(&next.meta, &mut e);
        }
        if flags & HAS_VARIABLES != 0 {
            encode_variables(&next.variables, &mut e);
        }
        let (old, new) = (status_fields(&self.status), status_fields(&next.status));
        let mask = (0..8).fold(0u8, |m, i| if old[i] != new[i] { m | 1 << i } else { m });
        e.u8(mask);
        for i in (0..8).filter(|i| mask & (1 << i) != 0) {
            e.i64(new[i] as i64 - old[i] as i64);
        }
        let removed: Vec<u64> = self
            .sessions
            .keys()
            .filter(|id| !next.sessions.contains_key(id))
            .copied()
            .collect();
        e.u64(removed.len() as u64);
        let mut last = 0;
        for id in removed {
            e.u64(id - last);
            last = id;
        }
        let changed: Vec<(u64, u8)> = next
            .sessions
            .iter()
            .filter_map(|(&id, s)| {
                let mask = self.sessions.get(&id).map_or(field::ALL, |o| s.diff(o));
                (mask != 0).then_some((id, mask))
            })
            .collect();
        e.u64(changed.len() as u64);
        let mut last = 0;
        for (id, mask) in changed {
            e.u64(id - last);
            last = id;
            e.u8(mask);
            if let Some(s) = next.sessions.get(&id) {
                s.encode(mask, next.at_ms, &mut e);
            }
        }
        e.buf
    }

    /// Applies a delta taken at `at_ms`.
    pub fn apply_delta(&mut self, at_ms: i64, payload: &[u8]) -> Result<(), DecodeError> {
        let mut d = Dec::new(payload);
        self.at_ms = at_ms;
        self.seq = d.u64()?;
        self.poll_latency_us = d.u64()?;
        self.statements = d.u32()?;
        let flags = d.u8()?;
        if flags & HAS_META != 0 {
            self.meta = decode_meta(&mut d)?;
        }
        if flags & HAS_VARIABLES != 0 {
            self.variables = decode_variables(&mut d)?;
        }
        let mask = d.u8()?;
        let mut f = status_fields(&self.status);
        for (i, x) in f.iter_mut().enumerate() {
            if mask & (1 << i) != 0 {
                *x = x.wrapping_add_signed(d.i64()?);
            }
        }
        self.status = status_from(f);
        let mut id = 0u64;
        for _ in 0..d.u64()? {
            id = id.checked_add(d.u64()?).ok_or(DecodeError("session id"))?;
            self.remove(id);
        }
        let mut id = 0u64;
        for _ in 0..d.u64()? {
            id = id.checked_add(d.u64()?).ok_or(DecodeError("session id"))?;
            let mask = d.u8()?;
            let mut s = self.sessions.get(&id).cloned().unwrap_or_default();
            s.decode(mask, at_ms, &mut d)?;
            self.insert(id, s);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: u64, user: &str, host: &str, command: &str, time_ms: u64) -> Session {
        Session {
            id,
            user: user.into(),
            host: host.into(),
            command: command.into(),
            time_ms,
            ..Session::default()
        }
    }

    fn snap(at_ms: i64, sessions: Vec<Session>) -> Snapshot {
        let mut s = State::default().to_snapshot();
        s.taken_at = from_ms(at_ms);
        s.sessions = sessions;
        s.variables.max_connections = 100;
        s.status.threads_connected = s.sessions.len() as u64;
        s.server = ServerInfo::from_version("10.11.6-MariaDB");
        s
    }

    #[test]
    fn time_advancing_costs_nothing_and_deltas_round_trip() {
        let t0 = 1_800_000_000_000;
        let a = snap(
            t0,
            vec![
                session(5, "app", "10.0.0.1:4000", "Sleep", 3_000),
                session(9, "app", "10.0.0.2:4001", "Query", 0),
                session(1, "system user", "", "Daemon", 0),
            ],
        );
        let s0 = State::default().next(&a);
        let kf = s0.encode_keyframe();
        let r0 = State::decode_keyframe(t0, &kf).unwrap();
        assert_eq!(r0, s0);
        // One second later, whole-second times 1 s on: nothing but the counters.
        let mut b = a.clone();
        b.taken_at = from_ms(t0 + 1_003);
        b.sessions[0].time_ms = 4_000;
        b.sessions[1].time_ms = 1_000;
        b.sessions[2].time_ms = 1_000;
        b.status.uptime_s = 1;
        let s1 = s0.next(&b);
        assert_eq!(s1.sessions, s0.sessions, "only time advanced");
        let delta = s0.encode_delta(&s1);
        assert!(delta.len() < 12, "{} bytes", delta.len());
        // Then one session goes away, one changes command, one arrives.
        let mut c = b.clone();
        c.taken_at = from_ms(t0 + 2_000);
        c.sessions.remove(0);
        c.sessions[0].command = "Sleep".into();
        c.sessions[0].time_ms = 0;
        c.sessions
            .push(session(12, "rep", "10.0.0.3:5", "Query", 0));
        let s2 = s1.next(&c);
        let mut r = r0;
        r.apply_delta(t0 + 1_003, &delta).unwrap();
        r.apply_delta(t0 + 2_000, &s1.encode_delta(&s2)).unwrap();
        assert_eq!(r, s2);
        let snap2 = r.to_snapshot();
        assert_eq!(snap2.sessions.len(), 3);
        assert_eq!(r.sample(), Sample::from_snapshot(&snap2));
        let by_id = |id| snap2.sessions.iter().find(|s| s.id == id).unwrap();
        assert_eq!(by_id(9).command, "Sleep");
        assert_eq!(by_id(9).time_ms, 0);
        assert_eq!(by_id(1).time_ms, 2_000);
    }

    #[test]
    fn samples_keep_the_busiest_hosts_as_live_ones_do() {
        let sessions = (0..700u64)
            .map(|i| {
                session(
                    i + 10,
                    "app",
                    &format!("10.1.{}.{}:{i}", i % 90, i % 3),
                    "Sleep",
                    0,
                )
            })
            .collect();
        let st = State::default().next(&snap(1_000, sessions));
        assert_eq!(st.sample(), Sample::from_snapshot(&st.to_snapshot()));
        assert_eq!(st.sample().per_host.len(), HOSTS_PER_SAMPLE);
    }

    #[test]
    fn garbage_does_not_panic() {
        for len in 0..64 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let _ = State::decode_keyframe(0, &junk);
            let _ = State::default().apply_delta(0, &junk);
        }
    }
}
