//! Paginated list calls: every page's items, with the error mapped once.

use std::future::Future;

use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::error::{AwsError, from_sdk};

pub trait AllPages<T> {
    /// Follows every page of a paginator's `.items().send()` stream.
    fn all(self, operation: &'static str) -> impl Future<Output = Result<Vec<T>, AwsError>> + Send;
}

impl<T, E> AllPages<T> for PaginationStream<Result<T, SdkError<E, HttpResponse>>>
where
    T: Send,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    async fn all(self, operation: &'static str) -> Result<Vec<T>, AwsError> {
        self.try_collect()
            .await
            .map_err(|err| from_sdk(operation, err))
    }
}

/// Every item of a list call paginated by `NextMarker` that the SDK has no paginator for
/// (WAFv2). `page(marker)` makes one call and returns its items and the next marker.
pub async fn all_by_marker<T, F, Fut>(mut page: F) -> Result<Vec<T>, AwsError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), AwsError>>,
{
    let mut items = Vec::new();
    let mut marker = None;
    loop {
        let (batch, next) = page(marker.take()).await?;
        let empty = batch.is_empty();
        items.extend(batch);
        match next {
            // A marker with an empty page would repeat forever on a misbehaving endpoint.
            Some(next) if !next.is_empty() && !empty => marker = Some(next),
            _ => return Ok(items),
        }
    }
}

/// Per-resource reads in flight at once, over the whole run. Discovery of a large account
/// would otherwise fire hundreds at once, emptying AWS's request buckets and the SDK's
/// retry quota; the client-side buckets (`throttle`) pace them, this keeps the queue short.
pub const READS_AT_ONCE: usize = 16;

static READS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(READS_AT_ONCE);

/// Like `futures::future::try_join_all`, with at most `READS_AT_ONCE` of all such futures
/// of the run running at once; results keep the order of `futures`. The futures must not
/// call `bounded` themselves (they would wait for permits their callers hold).
pub fn bounded<'a, I, F, T>(futures: I) -> futures::future::BoxFuture<'a, Result<Vec<T>, AwsError>>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, AwsError>> + Send + 'a,
    T: Send + 'a,
{
    use futures::stream::{self, StreamExt, TryStreamExt};
    // Collected at once, and the result boxed, so the future names neither the caller's
    // iterator nor its closures (whose lifetimes the boxed provider futures cannot name).
    let reads: Vec<_> = futures.into_iter().map(with_permit).collect();
    Box::pin(stream::iter(reads).buffered(READS_AT_ONCE).try_collect())
}

async fn with_permit<F: Future>(read: F) -> F::Output {
    // The semaphore is never closed, so a permit always comes.
    let _permit = READS.acquire().await;
    read.await
}
