//! The record of the last complete apply (`model::AppliedRecord`), kept in the bucket that
//! holds the stack's lock, at `applied/<stack>.json`. Written after an apply that left
//! nothing to do; read by `drift`. A missing record (or bucket) is not an error.

use aws_sdk_s3::primitives::ByteStream;

use super::AwsContext;
use super::error::{AwsError, ErrorKind};
use super::lock::LockPlace;
use crate::model::AppliedRecord;

fn key(ctx: &AwsContext) -> String {
    format!("applied/{}.json", ctx.stack)
}

/// Where the record lives, for messages.
pub fn location(ctx: &AwsContext, place: &LockPlace) -> String {
    format!("s3://{}/{}", place.bucket, key(ctx))
}

pub async fn write(
    ctx: &AwsContext,
    place: &LockPlace,
    record: &AppliedRecord,
) -> Result<(), AwsError> {
    let body = serde_json::to_vec_pretty(record).unwrap_or_default();
    crate::call!(
        ctx.s3()
            .put_object()
            .bucket(&place.bucket)
            .expected_bucket_owner(&ctx.account)
            .key(key(ctx))
            .content_type("application/json")
            .body(ByteStream::from(body)),
        "s3:PutObject"
    )?;
    Ok(())
}

/// The record, or `None` when there is none (no apply finished yet, or another bucket).
pub async fn read(ctx: &AwsContext, place: &LockPlace) -> Result<Option<AppliedRecord>, AwsError> {
    let Some((body, _)) = super::s3::get_object(ctx, &place.bucket, &key(ctx)).await? else {
        return Ok(None);
    };
    let record: AppliedRecord = serde_json::from_slice(&body).map_err(|e| {
        AwsError::new(
            "s3:GetObject",
            ErrorKind::Unreadable,
            format!(
                "{} is not a secinfra apply record ({e})",
                location(ctx, place)
            ),
        )
    })?;
    Ok(Some(record))
}

/// Forgets the record (a destroy begins); none there is fine.
pub async fn remove(ctx: &AwsContext, place: &LockPlace) -> Result<(), AwsError> {
    crate::call!(
        ctx.s3()
            .delete_object()
            .bucket(&place.bucket)
            .expected_bucket_owner(&ctx.account)
            .key(key(ctx)),
        "s3:DeleteObject"
    )?;
    Ok(())
}
