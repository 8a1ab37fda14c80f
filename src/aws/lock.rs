//! A lock per stack, held in S3 while apply or destroy runs, so two runs never change one
//! stack at once.
//!
//! The lock is an object `locks/<stack>.json` in a bucket of the account and region
//! (`secinfra-locks-<account>-<region>` unless `--lock-bucket` names one; created private
//! on first use). Taking it is a conditional write (`If-None-Match: *`): of two runs,
//! exactly one succeeds. It says who holds it, for what, since when, and carries a lease
//! the holder renews; a lock whose lease ran out (its holder was killed) is taken over
//! with a write conditional on the stale copy's ETag, so two runs cannot both take it.
//! `secinfra force-unlock` removes a lock by its id.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::AwsContext;
use super::error::{AwsError, ErrorKind};
use super::s3::Condition;

/// How long a lock stays valid without renewal; the holder renews it every third of that.
const LEASE: Duration = Duration::from_secs(300);
/// How often the holder checks that the lock is still its own (one HeadObject).
const CHECK_EVERY: Duration = Duration::from_secs(5);
/// A holder that could not renew stops starting changes this long before its lease ends,
/// so another run can never take the lock while this one still writes.
const STOP_BEFORE_EXPIRY: Duration = Duration::from_secs(60);

/// Whether a holder whose last renewal was `since` ago must stop: its lease is about to
/// end, and another run may take the lock once it has.
fn renewal_overdue(since: Duration) -> bool {
    since + STOP_BEFORE_EXPIRY >= LEASE
}

/// What the lock object says.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LockInfo {
    pub id: String,
    pub stack: String,
    /// `user@host (pid N)`.
    pub owner: String,
    /// `apply` or `destroy`.
    pub operation: String,
    /// Seconds since the epoch.
    pub started: u64,
    pub renewed: u64,
    pub lease_seconds: u64,
}

impl LockInfo {
    fn expired(&self, now: u64) -> bool {
        now > self.renewed.saturating_add(self.lease_seconds)
    }

    /// `alice@ci-7 (pid 4242), apply since 2026-11-29T05:01:02Z, lock id 1b2c...`.
    pub fn describe(&self) -> String {
        format!(
            "{}, {} since {}, lock id {}",
            self.owner,
            self.operation,
            timestamp(self.started),
            self.id
        )
    }
}

/// Where the stack's lock lives.
#[derive(Clone, Debug)]
pub struct LockPlace {
    pub bucket: String,
    pub key: String,
}

impl LockPlace {
    pub fn new(ctx: &AwsContext, bucket: Option<&str>) -> LockPlace {
        LockPlace {
            bucket: bucket.map_or_else(
                || format!("secinfra-locks-{}-{}", ctx.account, ctx.region),
                str::to_string,
            ),
            key: format!("locks/{}.json", ctx.stack),
        }
    }
}

/// A held lock. Renewed in the background until released.
pub struct StackLock {
    place: LockPlace,
    info: LockInfo,
    renewer: tokio::task::JoinHandle<()>,
    lost: tokio::sync::watch::Receiver<bool>,
}

impl StackLock {
    /// Takes the stack's lock, waiting up to `timeout` for its holder to finish. `notify`
    /// hears about waiting and about taking over an expired lock.
    pub async fn acquire(
        ctx: &AwsContext,
        place: LockPlace,
        operation: &str,
        timeout: Duration,
        notify: &dyn Fn(&str),
    ) -> Result<StackLock, AwsError> {
        ensure_bucket(ctx, &place).await?;
        let started = now();
        let info = LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            stack: ctx.stack.clone(),
            owner: owner(&ctx.caller),
            operation: operation.to_string(),
            started,
            renewed: started,
            lease_seconds: LEASE.as_secs(),
        };
        let deadline = tokio::time::Instant::now() + timeout;
        let mut told = false;
        // Races (released or taken between two calls) retry at once, but not forever.
        let mut races = 0;
        loop {
            races += 1;
            if races > 20 {
                return Err(AwsError::new(
                    "lock",
                    ErrorKind::Conflict,
                    format!(
                        "could not take the lock of stack {}: s3://{}/{} keeps changing under \
                         conditional writes",
                        ctx.stack, place.bucket, place.key
                    ),
                ));
            }
            if let Some(etag) = write(ctx, &place, &info, Condition::Absent).await? {
                return Ok(StackLock::held(ctx, place, info, etag));
            }
            let Some((holder, etag)) = read(ctx, &place).await? else {
                continue; // released meanwhile: try again at once
            };
            // Our own write, whose answer was lost and whose retry found it in place.
            if holder.id == info.id {
                return Ok(StackLock::held(ctx, place, info, etag));
            }
            if holder.expired(now()) {
                let taken = write(ctx, &place, &info, Condition::Matches(&etag)).await?;
                if let Some(etag) = taken {
                    notify(&format!(
                        "took over the expired lock of {} (not renewed for {} s)",
                        holder.describe(),
                        now().saturating_sub(holder.renewed)
                    ));
                    return Ok(StackLock::held(ctx, place, info, etag));
                }
                continue;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(AwsError::new(
                    "lock",
                    ErrorKind::Conflict,
                    format!(
                        "stack {} is locked by {}{}. Wait for that run to finish (or pass \
                         --lock-timeout to wait); if it is gone, run `secinfra force-unlock \
                         BLUEPRINT {}` (the lock expires by itself {} s after its last renewal)",
                        ctx.stack,
                        holder.describe(),
                        if timeout.is_zero() {
                            String::new()
                        } else {
                            format!("; waited {} s", timeout.as_secs())
                        },
                        holder.id,
                        holder.lease_seconds
                    ),
                ));
            }
            races = 0;
            if !told {
                notify(&format!(
                    "waiting for the lock of stack {}: held by {}",
                    ctx.stack,
                    holder.describe()
                ));
                told = true;
            }
            tokio::time::sleep(Duration::from_secs(2).min(deadline - tokio::time::Instant::now()))
                .await;
        }
    }

    fn held(ctx: &AwsContext, place: LockPlace, info: LockInfo, etag: String) -> StackLock {
        let (tell, lost) = tokio::sync::watch::channel(false);
        let renewer = tokio::spawn(keep(ctx.clone(), place.clone(), info.clone(), etag, tell));
        StackLock {
            place,
            info,
            renewer,
            lost,
        }
    }

    /// Resolves if the lock stops being this run's (removed with force-unlock, or taken
    /// over after this run failed to renew it): the run must stop changing the stack.
    pub async fn lost(&self) {
        let mut lost = self.lost.clone();
        let _ = lost.wait_for(|lost| *lost).await;
    }

    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    /// Gives the lock up (only if it is still this run's).
    pub async fn release(self, ctx: &AwsContext) -> Result<(), AwsError> {
        self.renewer.abort();
        match read(ctx, &self.place).await? {
            Some((holder, _)) if holder.id == self.info.id => delete(ctx, &self.place).await,
            _ => Ok(()),
        }
    }
}

/// Checks every few seconds that the lock is still this run's, and renews the lease
/// every third of it; says so through `tell` when the lock is gone or someone else's.
async fn keep(
    ctx: AwsContext,
    place: LockPlace,
    mut info: LockInfo,
    mut etag: String,
    tell: tokio::sync::watch::Sender<bool>,
) {
    let mut last_renewal = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(CHECK_EVERY).await;
        if renewal_overdue(last_renewal.elapsed()) {
            break;
        }
        if last_renewal.elapsed() >= LEASE / 3 {
            info.renewed = now();
            match write(&ctx, &place, &info, Condition::Matches(&etag)).await {
                Ok(Some(next)) => {
                    etag = next;
                    last_renewal = tokio::time::Instant::now();
                }
                Ok(None) => break,
                Err(_) => {} // tried again at the next check
            }
            continue;
        }
        let head = crate::call!(
            ctx.s3()
                .head_object()
                .bucket(&place.bucket)
                .expected_bucket_owner(&ctx.account)
                .key(&place.key),
            "s3:HeadObject"
        );
        match head {
            Ok(head) if head.e_tag() == Some(etag.as_str()) => {}
            Ok(_) => break,
            Err(e) if e.is(ErrorKind::NotFound) || e.code.is_none() && !e.is_transient() => break,
            Err(_) => {}
        }
    }
    let _ = tell.send(true);
}

/// Removes a lock by its id (`secinfra force-unlock`): returns what it removed.
pub async fn force_unlock(
    ctx: &AwsContext,
    place: &LockPlace,
    id: &str,
) -> Result<LockInfo, AwsError> {
    let refuse = |message: String| AwsError::new("lock", ErrorKind::Invalid, message);
    match read(ctx, place).await? {
        None => Err(refuse(format!("stack {} is not locked", ctx.stack))),
        Some((holder, _)) if holder.id != id => Err(refuse(format!(
            "stack {} is locked by {}, not by lock id {id}; nothing was removed",
            ctx.stack,
            holder.describe()
        ))),
        Some((holder, _)) => {
            delete(ctx, place).await?;
            Ok(holder)
        }
    }
}

/// Reads the lock, if there is one: what it says and its ETag.
pub async fn read(
    ctx: &AwsContext,
    place: &LockPlace,
) -> Result<Option<(LockInfo, String)>, AwsError> {
    let Some((body, etag)) = super::s3::get_object(ctx, &place.bucket, &place.key).await? else {
        return Ok(None);
    };
    let info: LockInfo = serde_json::from_slice(&body).map_err(|e| {
        AwsError::new(
            "lock",
            ErrorKind::Unreadable,
            format!(
                "s3://{}/{} is not a secinfra lock ({e}); remove it if nothing else wrote it",
                place.bucket, place.key
            ),
        )
    })?;
    Ok(Some((info, etag)))
}

/// Writes the lock if the condition holds: the new ETag, or `None` when it did not hold.
async fn write(
    ctx: &AwsContext,
    place: &LockPlace,
    info: &LockInfo,
    condition: Condition<'_>,
) -> Result<Option<String>, AwsError> {
    let body = serde_json::to_vec_pretty(info).unwrap_or_default();
    super::s3::put_object_if(ctx, &place.bucket, &place.key, body, condition).await
}

async fn delete(ctx: &AwsContext, place: &LockPlace) -> Result<(), AwsError> {
    crate::call!(
        ctx.s3()
            .delete_object()
            .bucket(&place.bucket)
            .expected_bucket_owner(&ctx.account)
            .key(&place.key),
        "s3:DeleteObject"
    )?;
    Ok(())
}

/// The lock bucket: created on first use (no stack owns it; it holds only locks), private
/// (all four public access blocks), encrypted by default (SSE-S3), and refusing requests
/// without TLS — unless this run itself speaks plain HTTP (an endpoint on this machine),
/// which that policy would lock out of the bucket. A bucket that exists (named with
/// `--lock-bucket`, or made by an earlier secinfra) is used as it is.
async fn ensure_bucket(ctx: &AwsContext, place: &LockPlace) -> Result<(), AwsError> {
    let exists = crate::call!(
        ctx.s3()
            .head_bucket()
            .bucket(&place.bucket)
            .expected_bucket_owner(&ctx.account),
        "s3:HeadBucket"
    );
    match exists {
        Ok(_) => return Ok(()),
        Err(e) if e.is(ErrorKind::NotFound) || e.code.is_none() => {}
        Err(e) => return Err(e),
    }
    match super::s3::create_bucket(ctx, &place.bucket).await {
        Ok(()) => {}
        // Another run created it a moment ago.
        Err(e) if e.is(ErrorKind::Conflict) => return Ok(()),
        Err(e) => return Err(e),
    }
    super::s3::block_public_access(ctx, &place.bucket, super::s3::all_public_access_blocked())
        .await?;
    super::s3::encrypt_by_default(ctx, &place.bucket, None).await?;
    if ctx.tls {
        let arn = format!("arn:{}:s3:::{}", ctx.partition, place.bucket);
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [crate::policy::deny_plain_http(&arn)],
        });
        super::s3::set_policy(ctx, &place.bucket, &policy).await?;
    }
    Ok(())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn timestamp(secs: u64) -> String {
    aws_smithy_types::DateTime::from_secs(secs as i64)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_else(|_| secs.to_string())
}

/// Who holds the lock, as another run's message names them: the local user where there is
/// one, and the AWS identity (what a CI job has instead of a user name), on which host.
fn owner(caller: &str) -> String {
    let user = ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.trim().is_empty()));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "an unnamed host".into());
    holder(user.as_deref(), caller, &host, std::process::id())
}

fn holder(user: Option<&str>, caller: &str, host: &str, pid: u32) -> String {
    let who = match (user, caller.is_empty()) {
        (Some(user), false) => format!("{user} ({caller})"),
        (Some(user), true) => user.to_string(),
        (None, false) => caller.to_string(),
        (None, true) => "an unnamed user".to_string(),
    };
    format!("{who}@{host} (pid {pid})")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CI job without `$USER` is named by its AWS identity, never `unknown`.
    #[test]
    fn the_holder_is_named_by_user_or_aws_identity() {
        let role = "arn:aws:sts::123456789012:assumed-role/ci/run-42";
        assert_eq!(
            holder(None, role, "runner-7", 9),
            format!("{role}@runner-7 (pid 9)")
        );
        assert_eq!(
            holder(Some("alice"), role, "laptop", 7),
            format!("alice ({role})@laptop (pid 7)")
        );
        assert_eq!(
            holder(Some("alice"), "", "laptop", 7),
            "alice@laptop (pid 7)"
        );
        assert!(!holder(None, "", "h", 1).contains("unknown"));
    }

    #[test]
    fn a_holder_that_cannot_renew_stops_before_its_lease_ends() {
        assert!(!renewal_overdue(LEASE / 3));
        assert!(!renewal_overdue(LEASE - STOP_BEFORE_EXPIRY - CHECK_EVERY));
        assert!(renewal_overdue(LEASE - STOP_BEFORE_EXPIRY));
        // It stops with time to spare: at least a check interval before the lease ends.
        assert!(STOP_BEFORE_EXPIRY > CHECK_EVERY * 2);
    }

    #[test]
    fn a_lock_expires_after_its_lease_without_renewal() {
        let info = LockInfo {
            id: "x".into(),
            stack: "s".into(),
            owner: "o".into(),
            operation: "apply".into(),
            started: 1_000,
            renewed: 1_100,
            lease_seconds: 300,
        };
        assert!(!info.expired(1_400));
        assert!(info.expired(1_401));
        assert!(info.describe().contains("apply since 1970-01-01T00:16:40Z"));
    }
}
