//! `secinfra respond`: incident response from the same blueprint, without an apply.
//! Containment (`blocks`: block-ip, unblock-ip, list-blocks, expire-blocks) and
//! eradication (`rotate`: rotate-secrets, rotate-key) and recovery (`restore`:
//! restore-db). Each change prints what it will
//! do, asks (or `--auto-approve`/`--yes`), and writes an audit line to stderr and to the
//! blueprint's `incident_log:` group. None takes
//! the stack lock: none changes what apply manages.

mod blocks;
mod restore;
mod rotate;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

use super::{Exit, Failure, Session};
use crate::aws::AwsContext;
use crate::cli::RespondVerb;
use crate::model::incident::INCIDENT_LOG;
use crate::model::{Address, Desired, Kind, Props};

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

/// Where a respond command's audit lines go: stderr always, and the blueprint's incident
/// log when it declares one (a JSON document per line, one stream per run).
struct AuditLog<'a> {
    ctx: &'a AwsContext,
    group: Option<String>,
    stream: String,
    verb: &'static str,
}

impl<'a> AuditLog<'a> {
    fn new(ctx: &'a AwsContext, desired: &Desired, verb: &'static str) -> AuditLog<'a> {
        let group = desired
            .resources
            .get(&Address::new(Kind::LogGroup, INCIDENT_LOG))
            .and_then(|r| match &r.props {
                Props::LogGroup(p) => Some(p.name.clone()),
                _ => None,
            });
        // Log stream names may not hold `:` or `*`.
        let started = rfc3339(now()).replace(':', "-");
        let run = uuid::Uuid::new_v4().simple().to_string();
        AuditLog {
            ctx,
            group,
            stream: format!("{}/{verb}/{started}-{}", ctx.stack, &run[..8]),
            verb,
        }
    }

    /// Says when, who, what and why; a line the incident log could not take is a warning
    /// (the change is made, and stderr has the line).
    async fn line(&self, session: &Session, what: &str, reason: &str) {
        let at = rfc3339(now());
        let operator = &self.ctx.caller;
        session.note(&format!(
            "secinfra respond: {at} {operator} {what}; reason: {reason}"
        ));
        let Some(group) = &self.group else {
            return;
        };
        let message = serde_json::json!({
            "time": at,
            "operator": operator,
            "stack": self.ctx.stack,
            "verb": self.verb,
            "what": what,
            "reason": reason,
        })
        .to_string();
        if let Err(e) =
            crate::aws::incident_log::append(self.ctx, group, &self.stream, &message).await
        {
            session.warn(&format!(
                "the incident log {group} did not take this line ({e}); the line above is \
                 the record"
            ));
        }
    }
}
