//! The `secinfra` binary: parse arguments, run the command, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

use secinfra::cli::Cli;
use secinfra::commands::{self, Exit};

fn main() -> ExitCode {
    // clap exits 2 on usage errors, which CI would read as "changes present"; a usage
    // error is an error (1). Help and version requests still exit 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
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
