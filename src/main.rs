//! The `secinfra` binary: parse arguments, run the command, map the outcome to an exit code.

use std::process::ExitCode;

use clap::FromArgMatches;

use secinfra::cli::Cli;
use secinfra::commands::{self, Exit};

fn main() -> ExitCode {
    // clap exits 2 on usage errors, which CI would read as "changes present"; a usage
    // error is an error (1). Help and version requests still exit 0.
    let parsed = secinfra::cli::command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(err)
            if err.use_stderr()
                && let Some(hint) = single_dash_habit() =>
        {
            eprintln!("error: {hint}");
            return Exit::Failure.into();
        }
        Err(err) => {
            let exit = if err.use_stderr() {
                Exit::Failure
            } else {
                Exit::Success
            };
            let _ = err.print();
            return exit.into();
        }
    };
    let cli = Cli {
        global: cli.global.without_empty_values(),
        ..cli
    };
    init_logging(cli.global.verbose);
    let session_color = cli
        .global
        .colors(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let styles = secinfra::render::Styles::new(session_color);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return Exit::Failure.into();
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(exit) => exit.into(),
        Err(failure) => {
            eprint!("{}", failure.render(&styles, session_color));
            failure.exit().into()
        }
    }
}

/// `-vv` shows the SDK's own debug logs (requests, retries) on stderr; request and
/// response bodies are never logged at this level.
fn init_logging(verbose: u8) {
    if verbose < 2 {
        return;
    }
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    let filter = Targets::new()
        .with_target("aws_smithy_runtime", LevelFilter::DEBUG)
        .with_target("aws_config", LevelFilter::DEBUG)
        .with_target("secinfra", LevelFilter::DEBUG);
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter),
        )
        .try_init();
}

/// Terraform spells long options with one dash (`-out`, `-auto-approve`); clap reads them
/// as clusters of short ones and suggests `-- -out`. The first such argument whose
/// two-dash form is an option of this CLI gets a plain "did you mean".
fn single_dash_habit() -> Option<String> {
    use clap::CommandFactory;
    let command = Cli::command();
    let mut longs: Vec<String> = command
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect();
    for sub in command.get_subcommands() {
        longs.extend(
            sub.get_arguments()
                .filter_map(|a| a.get_long().map(str::to_string)),
        );
    }
    std::env::args().skip(1).find_map(|arg| {
        let word = arg.strip_prefix('-').filter(|w| !w.starts_with('-'))?;
        let name = word.split('=').next().unwrap_or(word);
        (name.len() > 1 && longs.iter().any(|l| l == name)).then(|| {
            format!("`{arg}` is not an option here; did you mean `-{arg}`? (long options take two dashes)")
        })
    })
}
