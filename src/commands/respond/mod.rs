//! `secinfra respond`: incident response from the same blueprint, without an apply.
//! Containment (`blocks`: block-ip, unblock-ip, list-blocks, expire-blocks) and
//! eradication (`rotate`: rotate-secrets, rotate-key) and recovery (`restore`:
//! restore-db). Each change prints what it will
//! do, asks (or `--auto-approve`/`--yes`), and writes an audit line to stderr. None takes
//! the stack lock: none changes what apply manages.

mod blocks;
mod restore;
mod rotate;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

use super::{Exit, Failure, Session};
use crate::cli::RespondVerb;

pub async fn run(session: &Session, verb: &RespondVerb) -> Result<Exit, Failure> {
    match verb {
        RespondVerb::BlockIp(args) => blocks::block_ip(session, args).await,
        RespondVerb::UnblockIp(args) => blocks::unblock_ip(session, args).await,
        RespondVerb::ListBlocks(args) => blocks::list_blocks(session, args).await,
        RespondVerb::ExpireBlocks(args) => blocks::expire_blocks(session, args).await,
        RespondVerb::RotateSecrets(args) => rotate::rotate_secrets(session, args).await,
        RespondVerb::RotateKey(args) => rotate::rotate_key(session, args).await,
        RespondVerb::RestoreDb(args) => restore::restore_db(session, args).await,
    }
}

fn now() -> DateTime {
    DateTime::from_secs(DateTime::from(std::time::SystemTime::now()).secs())
}

fn rfc3339(time: DateTime) -> String {
    time.fmt(Format::DateTime).unwrap_or_default()
}

fn refused(problems: Vec<String>) -> Failure {
    Failure::Refused(format!(
        "nothing was changed:\n  - {}",
        problems.join("\n  - ")
    ))
}

/// The audit line every change writes to stderr: when, who, what, why.
fn audit_line(session: &Session, at: &str, operator: &str, what: &str, reason: &str) {
    session.note(&format!(
        "secinfra respond: {at} {operator} {what}; reason: {reason}"
    ));
}
