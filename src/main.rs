//! conntop: parse the flags, pick the mode, map failures to exit codes
//! (2 for usage, 1 for everything else) with one line on stderr.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches};

use conntop::cli::{self, Cli, Mode};
use conntop::config;
use conntop::modes::{self, Failure};

/// `-p SECRET` (separate) is not a password in mysql; refuse it without
/// echoing the word, which is likely a password typed the wrong way.
/// A subcommand name after a bare `-p` (`conntop -p kill ...`) is fine.
fn separate_password_value(args: &[OsString]) -> bool {
    let cli = Cli::command();
    args.windows(2).any(|w| {
        w[0] == "--password"
            && w[1]
                .to_str()
                .is_some_and(|next| !next.starts_with('-') && cli.find_subcommand(next).is_none())
    })
}

/// A usage error: one line naming the help that explains it, exit code 2.
fn usage_error_of(command: &str, line: &str) -> ExitCode {
    conntop::text::stderr_line(&format!("conntop: {line} (see {command} --help)"));
    ExitCode::from(2)
}

/// Prints `conntop check`'s one line on stdout and exits with its state.
fn check_exit(verdict: &conntop::check::Verdict) -> ExitCode {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{}", verdict.line);
    ExitCode::from(verdict.state.code())
}

/// No core file: the process holds the database password in memory (a
/// terminal hang-up once aborted conntop and left one behind with it).
fn no_core_dumps() {
    #[cfg(unix)]
    {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit only reads the struct passed by reference, which
        // lives across the call; it has no other memory effects.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &none);
        }
    }
}

fn main() -> ExitCode {
    no_core_dumps();
    let argv: Vec<OsString> = std::env::args_os().collect();
    // Like the mysql client: `ps` shows `-pxxxxxx` from here on. Best effort: where it
    // cannot be done (not Linux), the password stays visible to `ps`, as documented.
    let _ = config::hide_passwords(&argv);
    let args = config::normalize_argv(argv);
    // `conntop check`'s usage errors are UNKNOWN (exit 3) on stdout, as
    // monitoring plugins report them.
    let check = cli::command_named(&args) == "conntop check";
    let usage_error_of = |command: &str, line: &str| {
        if check {
            check_exit(&conntop::check::unknown(&format!(
                "{line} (see conntop check --help)"
            )))
        } else {
            usage_error_of(command, line)
        }
    };
    let usage_error = |line: &str| usage_error_of("conntop", line);
    if separate_password_value(&args) {
        // Placeholders, not a sample word: the refused value must never show.
        return usage_error(
            "-p takes no separate value: write -p<password> or --password=<password>, or a bare -p to be prompted",
        );
    }
    let matches = match cli::command().try_get_matches_from(&args) {
        Ok(matches) => matches,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // The first paragraph, on one line: clap puts what is missing
            // ("required arguments were not provided:") on the lines below.
            let text = e.render().to_string();
            let first: Vec<&str> = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let first = if first.is_empty() {
                "bad arguments".to_string()
            } else {
                first.join(" ")
            };
            // clap quotes the bad value whole: a 1 MB value must not make a
            // 1 MB line, nor reach the terminal with its escapes live.
            let first = conntop::text::one_line(first.trim_start_matches("error: "), 200);
            return usage_error_of(&cli::command_named(&args), &first);
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return usage_error(&conntop::text::one_line(&e.to_string(), 200)),
    };
    if let Err(e) = cli::check(&matches, &cli) {
        return usage_error_of(&e.command, &e.line);
    }
    let result = match &cli.command {
        None if cli.dashboard.once => modes::once(&cli),
        None => modes::dashboard(&cli),
        Some(Mode::Kill(args)) => modes::kill(&cli, args),
        Some(Mode::Demo(args)) => modes::demo(&cli, args),
        Some(Mode::Sandbox(args)) => modes::sandbox(args),
        Some(Mode::Completions(args)) => modes::completions(args),
        Some(Mode::Man(args)) => modes::man(args),
        Some(Mode::Check(args)) => return check_exit(&conntop::check::run(&cli, args)),
        Some(Mode::Record(args)) => modes::record(&cli, args),
        Some(Mode::Replay(args)) => modes::replay(&cli, args),
    };
    if let Some(status) = conntop::tui::signal_exit_status() {
        // Ended by SIGTERM/SIGHUP/...: the shell's convention, 128 + signal.
        if let Err(Failure(msg)) = &result {
            conntop::text::stderr_line(&format!("conntop: {msg}"));
        }
        return ExitCode::from(status);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(msg)) => {
            conntop::text::stderr_line(&format!("conntop: {msg}"));
            ExitCode::FAILURE
        }
    }
}
