//! `secinfra fmt FILE...`: canonical layout for blueprints (`blueprint::format`), written
//! in place (the files changed are named), or `--check`ed for CI, or shown as a `--diff`.

use super::{Exit, Failure, Session, print};
use crate::blueprint::{Diagnostics, Source};
use crate::cli::FmtArgs;

pub fn run(session: &Session, args: &FmtArgs) -> Result<Exit, Failure> {
    let mut unformatted = Vec::new();
    let mut errors = Diagnostics::default();
    for path in &args.files {
        let source = match Source::read(path) {
            Ok(source) => source,
            Err(e) => {
                errors.items.extend(e.items);
                continue;
            }
        };
        let formatted = match crate::blueprint::format::format(&source) {
            Ok(text) => text,
            Err(e) => {
                errors.items.extend(e.items);
                continue;
            }
        };
        if *formatted == *source.text {
            continue;
        }
        let shown = path.display().to_string();
        if args.diff {
            print(
                &similar::TextDiff::from_lines(&*source.text, &formatted)
                    .unified_diff()
                    .header(&shown, &format!("{shown} (formatted)"))
                    .to_string(),
            )?;
        }
        if args.check {
            session.note(&format!("{shown} is not formatted"));
        } else {
            std::fs::write(path, &formatted)
                .map_err(|e| Failure::Other(anyhow::anyhow!("cannot write {shown}: {e}")))?;
            print(&format!("{shown}\n"))?;
        }
        unformatted.push(shown);
    }
    if !errors.items.is_empty() {
        return Err(Failure::Blueprint(errors));
    }
    if args.check && !unformatted.is_empty() {
        session.note("run `secinfra fmt` on them to format them");
        return Ok(Exit::Failure);
    }
    Ok(Exit::Success)
}
