//! The fixed parts of a stored snapshot, field by field: the status
//! counters, the variables and who was polled ([`Meta`]).

use crate::snapshot::{Privileges, Status, Variables};

use super::codec::{Dec, DecodeError, Enc};
use super::model::Meta;

/// Status counters in a fixed order.
pub fn status_fields(s: &Status) -> [u64; 8] {
    [
        s.threads_connected,
        s.threads_running,
        s.max_used_connections,
        s.connections,
        s.aborted_connects,
        s.aborted_clients,
        s.connection_errors_max_connections,
        s.uptime_s,
    ]
}

/// The status of counters in [`status_fields`] order.
pub fn status_from(f: [u64; 8]) -> Status {
    Status {
        threads_connected: f[0],
        threads_running: f[1],
        max_used_connections: f[2],
        connections: f[3],
        aborted_connects: f[4],
        aborted_clients: f[5],
        connection_errors_max_connections: f[6],
        uptime_s: f[7],
    }
}

/// Writes who was polled.
pub fn encode_meta(m: &Meta, e: &mut Enc) {
    e.str(&m.version);
    e.str(&m.endpoint);
    e.u64(m.own_id);
    e.u8(u8::from(m.privileges.process) | (u8::from(m.privileges.kill_any) << 1));
    e.opt_str(m.privileges.kill_only_user.as_deref());
}

/// Reads who was polled.
pub fn decode_meta(d: &mut Dec) -> Result<Meta, DecodeError> {
    let version = d.str()?;
    let endpoint = d.str()?;
    let own_id = d.u64()?;
    let p = d.u8()?;
    let kill_only_user = d.opt_str()?;
    Ok(Meta {
        version,
        endpoint,
        own_id,
        privileges: Privileges {
            process: p & 1 != 0,
            kill_any: p & 2 != 0,
            kill_only_user,
        },
    })
}

/// Writes the variables.
pub fn encode_variables(v: &Variables, e: &mut Enc) {
    for n in [v.max_connections, v.wait_timeout, v.interactive_timeout] {
        e.u64(n);
    }
    e.opt_u64(v.statement_timeout_ms);
    e.opt_u64(v.extra_port.map(u64::from));
    e.opt_u64(v.admin_port.map(u64::from));
    e.opt_str(v.admin_address.as_deref());
    e.opt_u64(v.slow_query_log.map(u64::from));
    match v.long_query_time_s {
        None => e.u8(0),
        Some(x) => {
            e.u8(1);
            e.f64(x);
        }
    }
    for n in [
        v.sort_buffer_size,
        v.join_buffer_size,
        v.read_buffer_size,
        v.read_rnd_buffer_size,
        v.thread_stack,
        v.net_buffer_length,
        v.binlog_cache_size,
        v.max_allowed_packet,
    ] {
        e.u64(n);
    }
}

/// Reads the variables.
pub fn decode_variables(d: &mut Dec) -> Result<Variables, DecodeError> {
    let port = |v: Option<u64>| v.and_then(|p| u16::try_from(p).ok());
    Ok(Variables {
        max_connections: d.u64()?,
        wait_timeout: d.u64()?,
        interactive_timeout: d.u64()?,
        statement_timeout_ms: d.opt_u64()?,
        extra_port: port(d.opt_u64()?),
        admin_port: port(d.opt_u64()?),
        admin_address: d.opt_str()?,
        slow_query_log: d.opt_u64()?.map(|b| b != 0),
        long_query_time_s: if d.bool()? { Some(d.f64()?) } else { None },
        sort_buffer_size: d.u64()?,
        join_buffer_size: d.u64()?,
        read_buffer_size: d.u64()?,
        read_rnd_buffer_size: d.u64()?,
        thread_stack: d.u64()?,
        net_buffer_length: d.u64()?,
        binlog_cache_size: d.u64()?,
        max_allowed_packet: d.u64()?,
    })
}
