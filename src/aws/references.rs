//! What a blueprint names but does not manage, looked up before anything changes: a
//! secret's rotation Lambda. Without this a missing function passes `plan` and fails
//! half way through `apply` (Secrets Manager's RotateSecret refuses it), after other
//! changes were made. One call per distinct function, all at once.
//! <https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConfiguration.html>

use std::collections::BTreeMap;

use futures::future::join_all;

use super::AwsContext;
use crate::model::{Address, Desired, Props};

/// A reference that names nothing in the account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingReference {
    /// The resource that names it.
    pub address: Address,
    /// What it is, in the blueprint's words.
    pub what: &'static str,
    pub target: String,
    /// What to do about it.
    pub hint: &'static str,
}

/// The rotation functions `desired` names that do not exist. A lookup that fails for
/// another reason (no permission to read functions) is not reported: apply will say.
pub async fn missing(ctx: &AwsContext, desired: &Desired) -> Vec<MissingReference> {
    let mut users: BTreeMap<&str, Vec<&Address>> = BTreeMap::new();
    for resource in desired.resources.values() {
        if let Props::Secret(secret) = &resource.props
            && let Some(function) = secret.rotation_lambda.as_deref()
        {
            users.entry(function).or_default().push(&resource.address);
        }
    }
    let lookups = users.keys().map(|function| async move {
        let found = ctx
            .lambda()
            .get_function_configuration()
            .function_name(*function)
            .send()
            .await;
        let gone = matches!(
            &found,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_not_found_exception())
        );
        (*function, gone)
    });
    let mut missing = Vec::new();
    for (function, gone) in join_all(lookups).await {
        if !gone {
            continue;
        }
        for address in &users[function] {
            missing.push(MissingReference {
                address: (*address).clone(),
                what: "rotation Lambda function",
                target: function.to_string(),
                hint: "deploy the function first (or fix `rotation.lambda_arn` / `rotation.lambda`), \
                       or use `rotation: manual` until it exists",
            });
        }
    }
    missing
}
