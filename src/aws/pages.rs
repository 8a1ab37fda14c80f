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
