//! The connection flags as a DBA meets them: inside a root command with subcommands, after
//! `normalize_argv`, resolved against option files on disk.

mod common;

use std::ffi::OsString;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};
use conntop::config::{ConnectArgs, SslMode, normalize_argv, resolve};

use common::Scratch;

/// A root command shaped like conntop's: `-h` is the host, help is `--help` only.
#[derive(Parser, Debug)]
#[command(name = "conntop", disable_help_flag = true)]
struct Cli {
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    #[command(flatten)]
    connect: ConnectArgs,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    Kill { id: u64 },
}

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    let argv = std::iter::once("conntop")
        .chain(args.iter().copied())
        .map(OsString::from)
        .collect();
    Cli::try_parse_from(normalize_argv(argv))
}

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn root_command_is_valid() {
    Cli::command().debug_assert();
}

#[test]
fn connection_flags_work_after_a_subcommand() {
    let cli = parse(&["-h", "db1", "kill", "5", "-pSECRET", "-P3307"]).unwrap();
    assert!(matches!(cli.command, Some(Cmd::Kill { id: 5 })));
    let o = resolve(&cli.connect, &no_env).unwrap();
    assert_eq!(o.endpoint(), "db1:3307");
    assert_eq!(o.password.as_ref().map(|p| p.expose()), Some("SECRET"));
    assert!(!format!("{o:?}").contains("SECRET"));
}

#[test]
fn bare_p_before_a_subcommand_prompts() {
    let cli = parse(&["-uroot", "-p", "kill", "3"]).unwrap();
    assert!(matches!(cli.command, Some(Cmd::Kill { id: 3 })));
    assert_eq!(cli.connect.password, Some(None));
}

#[test]
fn separate_p_value_is_not_a_password() {
    assert!(parse(&["-p", "SECRET"]).is_err());
}

#[test]
fn help_lists_the_connection_flags() {
    let help = Cli::command().render_help().to_string();
    for flag in [
        "-h, --host",
        "-P, --port",
        "-p, --password",
        "--ssl-mode",
        "--url",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn defaults_file_is_resolved() {
    let dir = Scratch::new("cli-config");
    let file = dir.file(
        "my.cnf",
        "[client]\nuser = app\npassword = \"s3cr#t\"\nhost = db2\nport = 3310\n\
         [conntop]\nuser = monitor\nssl-mode = required\nconnect-timeout = 2\n",
    );
    let cli = parse(&["--defaults-file", &file]).unwrap();
    let o = resolve(&cli.connect, &no_env).unwrap();
    assert_eq!(o.user, "monitor");
    assert_eq!(o.password.as_ref().map(|p| p.expose()), Some("s3cr#t"));
    assert_eq!(o.endpoint(), "db2:3310");
    assert_eq!(o.ssl_mode, SslMode::Required);
    assert_eq!(o.connect_timeout, Duration::from_secs(2));
    assert_eq!(o.tls_attempts(), &[true]);

    // Flags beat the file; the environment beats the file but not the flags.
    let env = |k: &str| (k == "MYSQL_HOST").then(|| "envhost".to_string());
    let cli = parse(&["--defaults-file", &file, "-P3311"]).unwrap();
    assert_eq!(
        resolve(&cli.connect, &env).unwrap().endpoint(),
        "envhost:3311"
    );
    let cli = parse(&["--defaults-file", &file, "-hflag"]).unwrap();
    assert_eq!(resolve(&cli.connect, &env).unwrap().endpoint(), "flag:3310");
}

#[test]
fn errors_are_one_line() {
    let dir = Scratch::new("cli-config-errors");
    let bad = dir.file("bad.cnf", "[client]\nport = abc\n");
    let cli = parse(&["--defaults-file", &bad]).unwrap();
    let err = resolve(&cli.connect, &no_env).unwrap_err().to_string();
    assert_eq!(err, format!("bad port \"abc\" in {bad}:2"));

    let cli = parse(&["--defaults-extra-file", "/nonexistent/extra.cnf"]).unwrap();
    let err = resolve(&cli.connect, &|_| None).unwrap_err().to_string();
    assert!(
        err.starts_with("cannot read option file /nonexistent/extra.cnf"),
        "{err}"
    );
    assert!(!err.contains('\n'));

    let cli = parse(&["--no-defaults", "--url", "mysql://u:SECRET@h:99999"]).unwrap();
    let err = resolve(&cli.connect, &no_env).unwrap_err().to_string();
    assert!(!err.contains("SECRET"), "{err}");
    assert!(err.starts_with("bad URL"), "{err}");
}

#[test]
fn bad_flag_values_are_usage_errors() {
    for args in [
        &["--connect-timeout", "soon"][..],
        &["-P", "port"],
        &["--ssl-mode", "maybe"],
    ] {
        let err = parse(args).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{args:?}");
    }
}
