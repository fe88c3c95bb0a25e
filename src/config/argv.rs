//! Passwords on the command line, hidden from `ps` and `/proc/PID/cmdline`.
//!
//! `-pSECRET`, `--password=SECRET` and the password in `--url` stay readable by every local
//! user in the process's argument memory for the whole run. Like the mysql client, conntop
//! overwrites them with `x` at startup. On Linux the argument strings lie between `arg_start`
//! and `arg_end` (fields 48 and 49 of `/proc/self/stat`); they are read and rewritten
//! through `/proc/self/mem`, so no unsafe code is needed. Elsewhere nothing is done: `ps`
//! keeps showing the password there.

use std::ffi::OsString;
use std::io;
use std::ops::Range;

/// Rewrites the mysql password forms so that clap reads them as mysql does.
///
/// `-pSECRET` becomes `--password=SECRET` and a bare `-p` becomes `--password` (prompt).
/// `-p SECRET` stays two arguments, so `SECRET` is not taken as a password. Other arguments,
/// the program name and everything after `--` are left alone.
pub fn normalize_argv(args: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut rest = args.into_iter();
    out.extend(rest.next());
    let mut verbatim = false;
    for arg in rest {
        if verbatim {
            out.push(arg);
            continue;
        }
        let rewritten = match arg.to_str() {
            Some("--") => {
                verbatim = true;
                None
            }
            Some("-p") => Some(OsString::from("--password")),
            Some(text) => text
                .strip_prefix("-p")
                .map(|secret| OsString::from(format!("--password={secret}"))),
            None => None,
        };
        out.push(rewritten.unwrap_or(arg));
    }
    out
}

/// Where passwords are in the arguments: `(argument index, byte range in it)`.
///
/// Reads the arguments as [`normalize_argv`] does: `-pSECRET` and
/// `--password=SECRET`, but not a bare `-p` nor anything after `--`; plus the password
/// of `--url=URL` and `--url URL`. Empty passwords give no span.
pub fn password_spans(args: &[OsString]) -> Vec<(usize, Range<usize>)> {
    let mut spans = Vec::new();
    let mut url_next = false;
    for (index, arg) in args.iter().enumerate().skip(1) {
        let Some(text) = arg.to_str() else {
            url_next = false;
            continue;
        };
        if text == "--" {
            break;
        }
        let span = if std::mem::take(&mut url_next) {
            super::url::password_range(text)
        } else if text == "--url" {
            url_next = true;
            None
        } else if let Some(url) = text.strip_prefix("--url=") {
            super::url::password_range(url).map(|r| r.start + 6..r.end + 6)
        } else if text.starts_with("--password=") {
            Some("--password=".len()..text.len())
        } else if text.starts_with("-p") {
            Some(2..text.len())
        } else {
            None
        };
        spans.extend(span.filter(|r| !r.is_empty()).map(|r| (index, r)));
    }
    spans
}

/// Overwrites each password of [`password_spans`] with `x` in this process's argument
/// memory, so `ps` shows `-pxxxxxx`; returns how many bytes were overwritten.
///
/// `args` must be this process's arguments as they were at startup (`std::env::args_os`,
/// read before this call): nothing is written unless the memory holds exactly them. Call it
/// first thing in `main`, before any thread starts. Errors (no `/proc`, a sandbox that
/// forbids writing `/proc/self/mem`, a system other than Linux) leave everything as it was.
#[cfg(target_os = "linux")]
pub fn hide_passwords(args: &[OsString]) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;

    let spans = password_spans(args);
    if spans.is_empty() {
        return Ok(0);
    }
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let area = arg_area(&stat).ok_or_else(|| invalid("no argument area in /proc/self/stat"))?;
    let mem = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/proc/self/mem")?;
    let len = usize::try_from(area.end - area.start).map_err(|_| invalid("argument area"))?;
    let mut bytes = vec![0u8; len];
    mem.read_exact_at(&mut bytes, area.start)?;
    let starts = arg_starts(&bytes, args)
        .ok_or_else(|| invalid("the argument memory does not hold this process's arguments"))?;
    let mut written = 0;
    for (index, range) in spans {
        let at = area.start + (starts[index] + range.start) as u64;
        mem.write_all_at(&vec![b'x'; range.len()], at)?;
        written += range.len();
    }
    Ok(written)
}

/// Not Linux: the password stays visible to `ps`; always an `Unsupported` error.
#[cfg(not(target_os = "linux"))]
pub fn hide_passwords(_args: &[OsString]) -> io::Result<usize> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "hiding arguments needs Linux's /proc/self/mem",
    ))
}

#[cfg(target_os = "linux")]
fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// `arg_start..arg_end` from the text of `/proc/self/stat`: fields 48 and 49, counted
/// after the command name, which is in parentheses and may hold spaces or `)`.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn arg_area(stat: &str) -> Option<Range<u64>> {
    let (_, after_name) = stat.rsplit_once(')')?;
    // The first field after the name is field 3 (state).
    let mut fields = after_name.split_whitespace().skip(48 - 3);
    let start: u64 = fields.next()?.parse().ok()?;
    let end: u64 = fields.next()?.parse().ok()?;
    (start < end).then_some(start..end)
}

/// Where each argument starts in the argument memory, or `None` unless the memory is
/// exactly `args`, each followed by a NUL.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn arg_starts(memory: &[u8], args: &[OsString]) -> Option<Vec<usize>> {
    use std::os::unix::ffi::OsStrExt;

    let mut starts = Vec::with_capacity(args.len());
    let mut at = 0;
    for arg in args {
        let arg = arg.as_bytes();
        let end = at + arg.len();
        if memory.get(at..end)? != arg || memory.get(end) != Some(&0) {
            return None;
        }
        starts.push(at);
        at = end + 1;
    }
    (at == memory.len()).then_some(starts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn hidden(list: &[&str]) -> Vec<String> {
        let mut out: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        for (index, range) in password_spans(&args(list)) {
            out[index].replace_range(range.clone(), &"x".repeat(range.len()));
        }
        out
    }

    #[test]
    fn passwords_are_found_where_normalize_argv_finds_them() {
        assert_eq!(
            hidden(&[
                "conntop",
                "-pSECRET",
                "-uroot",
                "--password=pw",
                "-p",
                "kill"
            ]),
            [
                "conntop",
                "-pxxxxxx",
                "-uroot",
                "--password=xx",
                "-p",
                "kill"
            ]
        );
        assert_eq!(
            hidden(&["-pPROGRAM", "-p", "--password=", "--", "-pKEPT"]),
            ["-pPROGRAM", "-p", "--password=", "--", "-pKEPT"]
        );
        assert_eq!(
            hidden(&[
                "conntop",
                "--url",
                "mysql://u:S3cr/et@h",
                "--url=mysql://u:pw@h:1/db",
                "--url",
                "mysql://u@h",
            ]),
            [
                "conntop",
                "--url",
                "mysql://u:xxxxxxx@h",
                "--url=mysql://u:xx@h:1/db",
                "--url",
                "mysql://u@h",
            ]
        );
        assert_eq!(hidden(&["conntop", "-pSé"]), ["conntop", "-pxxx"]);
    }

    #[test]
    fn the_argument_area_is_read_from_stat() {
        let mut fields: Vec<String> = (3..=52).map(|n| n.to_string()).collect();
        fields[48 - 3] = "1000".into();
        fields[49 - 3] = "1024".into();
        let stat = format!("42 (con) (x y)) {}", fields.join(" "));
        assert_eq!(arg_area(&stat), Some(1000..1024));
        assert_eq!(arg_area("42 (conntop) S 1 2"), None);
        let real = std::fs::read_to_string("/proc/self/stat");
        if cfg!(target_os = "linux") {
            assert!(arg_area(&real.unwrap()).is_some());
        }
    }

    #[test]
    fn memory_must_hold_exactly_the_arguments() {
        let list = args(&["conntop", "-pSECRET"]);
        assert_eq!(arg_starts(b"conntop\0-pSECRET\0", &list), Some(vec![0, 8]));
        assert_eq!(arg_starts(b"conntop\0-pSECRET", &list), None);
        assert_eq!(arg_starts(b"conntop\0-pSECRET\0extra\0", &list), None);
        assert_eq!(arg_starts(b"conntop\0-pxxxxxx\0", &list), None);
    }

    #[test]
    fn nothing_to_hide_writes_nothing() {
        let list: Vec<OsString> = std::env::args_os().collect();
        if password_spans(&list).is_empty() {
            assert_eq!(
                hide_passwords(&list).ok(),
                cfg!(target_os = "linux").then_some(0)
            );
        }
    }
}
