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
