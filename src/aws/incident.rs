//! The AWS side of containment: a web ACL's incident IP sets (found by name, only with
//! the stack's tag, changed with their lock token) and the ledger of who blocked what
//! (an object beside the stack's lock, written only over the version read).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_wafv2::types::Scope as WafScope;

use super::AwsContext;
use super::error::{AwsError, AwsResult, ErrorKind};
use super::lock::LockPlace;
use super::s3::{Condition, get_object, put_object_if};
use super::waf::{LOCK_CONFLICT, list_ip_sets, resource_tags};
use crate::model::{Address, BlockLedger, TAG_STACK};

/// Times a write is tried when others keep changing the same set or ledger between our
/// read and our write.
const WRITE_ATTEMPTS: u32 = 8;

/// An incident IP set found in the account.
#[derive(Clone, Debug)]
pub struct IncidentSet {
    pub address: Address,
    /// Its AWS name (`<stack>-<acl>-incident-v4`).
    pub name: String,
    pub id: String,
}

/// The named IP sets, by name, each only if it carries the stack's tag (one ListIPSets
/// walk, then one ListTagsForResource per set found). A set missing from the map was
/// not found, or belongs to someone else.
pub async fn find_sets(
    ctx: &AwsContext,
    wanted: &BTreeMap<String, Address>,
) -> AwsResult<(BTreeMap<String, IncidentSet>, Vec<String>)> {
    let mut found = BTreeMap::new();
    let mut foreign = Vec::new();
    for summary in list_ip_sets(ctx).await? {
        let Some(address) = wanted.get(&summary.name) else {
            continue;
        };
        let tags = resource_tags(ctx, &summary.arn).await?;
        if tags.get(TAG_STACK) != Some(&ctx.stack) {
            foreign.push(summary.name);
            continue;
        }
        found.insert(
            summary.name.clone(),
            IncidentSet {
                address: address.clone(),
                name: summary.name,
                id: summary.id,
            },
        );
    }
    Ok((found, foreign))
}

/// The set's addresses and lock token.
pub async fn read_addresses(
    ctx: &AwsContext,
    set: &IncidentSet,
) -> AwsResult<(BTreeSet<String>, String)> {
    let got = crate::call!(
        ctx.waf()
            .get_ip_set()
            .name(&set.name)
            .scope(WafScope::Regional)
            .id(&set.id),
        "wafv2:GetIPSet"
    )
    .map_err(|e| e.at(&set.address))?;
    let addresses = got
        .ip_set()
        .map(|s| s.addresses().iter().cloned().collect())
        .unwrap_or_default();
    Ok((addresses, got.lock_token().unwrap_or_default().to_string()))
}

/// Changes the set's addresses with `edit` (given what is there now, it says what should
/// be, or refuses). Another writer between our read and our write makes AWS refuse the
/// lock token (WAFOptimisticLockException, "AWS WAF API: UpdateIPSet",
/// https://docs.aws.amazon.com/waf/latest/APIReference/API_UpdateIPSet.html): read again
/// and apply `edit` to what they left, so neither loses the other's addresses.
pub async fn edit_addresses<E>(
    ctx: &AwsContext,
    set: &IncidentSet,
    edit: E,
) -> Result<BTreeSet<String>, EditError>
where
    E: Fn(&BTreeSet<String>) -> Result<BTreeSet<String>, Vec<String>>,
{
    for attempt in 1..=WRITE_ATTEMPTS {
        let (now, lock) = read_addresses(ctx, set).await?;
        let wanted = edit(&now).map_err(EditError::Refused)?;
        if wanted == now {
            return Ok(wanted);
        }
        let written = crate::call!(
            ctx.waf()
                .update_ip_set()
                .name(&set.name)
                .scope(WafScope::Regional)
                .id(&set.id)
                .set_addresses(Some(wanted.iter().cloned().collect()))
                .lock_token(lock),
            "wafv2:UpdateIPSet"
        )
        .map_err(|e| e.at(&set.address));
        match written {
            Ok(_) => return Ok(wanted),
            Err(e) if e.code.as_deref() == Some(LOCK_CONFLICT) && attempt < WRITE_ATTEMPTS => {
                tokio::time::sleep(backoff(attempt)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(EditError::Aws(AwsError::new(
        "wafv2:UpdateIPSet",
        ErrorKind::Conflict,
        format!(
            "{} kept changing under us ({WRITE_ATTEMPTS} attempts)",
            set.name
        ),
    )))
}

/// Why an edit did not happen.
#[derive(Debug)]
pub enum EditError {
    /// `edit` refused what it found (an address blocked meanwhile, the limit).
    Refused(Vec<String>),
    Aws(AwsError),
}

impl From<AwsError> for EditError {
    fn from(e: AwsError) -> EditError {
        EditError::Aws(e)
    }
}

/// A short, growing pause, different per process so two responders do not retry in step.
fn backoff(attempt: u32) -> Duration {
    let jitter = u64::from(std::process::id() % 97);
    Duration::from_millis(50 * u64::from(attempt) + jitter)
}

fn ledger_key(ctx: &AwsContext) -> String {
    format!("incidents/{}/blocks.json", ctx.stack)
}

/// Where the ledger lives, for messages.
pub fn ledger_location(ctx: &AwsContext, place: &LockPlace) -> String {
    format!("s3://{}/{}", place.bucket, ledger_key(ctx))
}

/// The ledger and the ETag of the version read (`None`: there is none yet).
pub async fn read_ledger(
    ctx: &AwsContext,
    place: &LockPlace,
) -> AwsResult<(BlockLedger, Option<String>)> {
    let Some((body, etag)) = get_object(ctx, &place.bucket, &ledger_key(ctx)).await? else {
        return Ok((BlockLedger::default(), None));
    };
    let ledger = serde_json::from_slice(&body).map_err(|e| {
        AwsError::new(
            "s3:GetObject",
            ErrorKind::Unreadable,
            format!(
                "{} is not a secinfra block ledger ({e})",
                ledger_location(ctx, place)
            ),
        )
    })?;
    Ok((ledger, Some(etag)))
}

/// Changes the ledger with `edit`, over the version read; read again and redo when
/// another responder wrote meanwhile.
pub async fn edit_ledger(
    ctx: &AwsContext,
    place: &LockPlace,
    edit: impl Fn(&mut BlockLedger),
) -> AwsResult<BlockLedger> {
    for attempt in 1..=WRITE_ATTEMPTS {
        let (mut ledger, etag) = read_ledger(ctx, place).await?;
        let before = ledger.clone();
        edit(&mut ledger);
        if ledger == before && etag.is_some() {
            return Ok(ledger);
        }
        let body = serde_json::to_vec_pretty(&ledger).unwrap_or_default();
        let condition = match &etag {
            Some(etag) => Condition::Matches(etag),
            None => Condition::Absent,
        };
        if put_object_if(ctx, &place.bucket, &ledger_key(ctx), body, condition)
            .await?
            .is_some()
        {
            return Ok(ledger);
        }
        tokio::time::sleep(backoff(attempt)).await;
    }
    Err(AwsError::new(
        "s3:PutObject",
        ErrorKind::Conflict,
        format!(
            "{} kept changing under us ({WRITE_ATTEMPTS} attempts)",
            ledger_location(ctx, place)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use aws_smithy_http_client::test_util::StaticReplayClient;

    use super::*;
    use crate::testing::replay::{json, waf};

    fn got(addresses: &[&str], token: &str) -> String {
        serde_json::json!({
            "IPSet": {
                "Name": "shop-api-incident-v4",
                "Id": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
                "ARN": "arn:aws:wafv2:us-east-1:111122223333:regional/ipset/shop-api-incident-v4/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
                "IPAddressVersion": "IPV4",
                "Addresses": addresses,
            },
            "LockToken": token,
        })
        .to_string()
    }

    /// Two responders at once: ours loses the race for the lock token, reads what theirs
    /// left and writes both (AWS's documented optimistic locking for UpdateIPSet).
    #[tokio::test]
    async fn a_lost_lock_token_is_read_again_and_nobody_loses_an_address() {
        let conflict = r#"{"__type":"WAFOptimisticLockException","Message":"AWS WAF couldn't save your changes because someone changed the resource after you started to edit it."}"#;
        let replay = StaticReplayClient::new(vec![
            json(200, &got(&["203.0.113.1/32"], "token-1")),
            json(400, conflict),
            json(200, &got(&["203.0.113.1/32", "198.51.100.9/32"], "token-2")),
            json(200, r#"{"NextLockToken":"token-3"}"#),
        ]);
        let ctx = AwsContext::unconnected("shop");
        ctx.use_client(waf(&replay));
        let set = IncidentSet {
            address: crate::model::incident_ip_set("api", crate::model::IpVersion::V4),
            name: "shop-api-incident-v4".into(),
            id: "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111".into(),
        };
        let written = edit_addresses(&ctx, &set, |now| {
            let mut next = now.clone();
            next.insert("192.0.2.44/32".to_string());
            Ok(next)
        })
        .await
        .expect("written");
        assert_eq!(written.len(), 3, "{written:?}");
        let requests: Vec<serde_json::Value> = replay
            .actual_requests()
            .map(|r| serde_json::from_slice(r.body().bytes().expect("body")).expect("json"))
            .collect();
        assert_eq!(requests.len(), 4);
        assert_eq!(requests[1]["LockToken"], "token-1");
        assert_eq!(requests[3]["LockToken"], "token-2");
        let mut last: Vec<&str> = requests[3]["Addresses"]
            .as_array()
            .expect("addresses")
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        last.sort_unstable();
        assert_eq!(last, ["192.0.2.44/32", "198.51.100.9/32", "203.0.113.1/32"]);
    }

    #[tokio::test]
    async fn an_edit_that_refuses_what_it_finds_writes_nothing() {
        let replay = StaticReplayClient::new(vec![json(200, &got(&["203.0.113.1/32"], "t"))]);
        let ctx = AwsContext::unconnected("shop");
        ctx.use_client(waf(&replay));
        let set = IncidentSet {
            address: crate::model::incident_ip_set("api", crate::model::IpVersion::V4),
            name: "shop-api-incident-v4".into(),
            id: "id".into(),
        };
        let refused = edit_addresses(&ctx, &set, |_| Err(vec!["full".to_string()])).await;
        assert!(matches!(refused, Err(EditError::Refused(p)) if p == ["full"]));
        assert_eq!(replay.actual_requests().count(), 1, "only the read");
    }
}
