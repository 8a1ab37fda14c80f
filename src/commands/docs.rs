//! `secinfra completions SHELL` and `secinfra man [COMMAND]`: generated from the same
//! command line the binary parses, so they cannot disagree with it.

use super::{Exit, Failure, print};

pub fn completions(shell: clap_complete::Shell) -> Result<Exit, Failure> {
    let mut command = crate::cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "secinfra", &mut script);
    print(&String::from_utf8_lossy(&script))?;
    Ok(Exit::Success)
}

/// The main page, or one command's page (`secinfra-plan(1)`, as cargo and git name them).
pub fn man(name: Option<&str>) -> Result<Exit, Failure> {
    let mut command = crate::cli::command();
    command.build();
    let page = match name {
        None => clap_mangen::Man::new(command),
        Some(name) => {
            let Some(sub) = command.find_subcommand(name).filter(|s| !s.is_hide_set()) else {
                let names: Vec<&str> = command
                    .get_subcommands()
                    .filter(|s| !s.is_hide_set() && s.get_name() != "help")
                    .map(|s| s.get_name())
                    .collect();
                return Err(Failure::Other(anyhow::anyhow!(
                    "no command `{name}`; pages exist for: {}",
                    names.join(", ")
                )));
            };
            // The page's name is `secinfra-plan`; its synopsis reads `secinfra plan`.
            let title = format!("secinfra-{name}");
            let usage = format!("secinfra {name}");
            clap_mangen::Man::new(sub.clone().bin_name(usage))
                .title(title)
                .source(format!("secinfra {}", env!("CARGO_PKG_VERSION")))
        }
    };
    let mut roff = Vec::new();
    page.render(&mut roff)
        .map_err(|e| Failure::Other(e.into()))?;
    print(&String::from_utf8_lossy(&roff))?;
    Ok(Exit::Success)
}
