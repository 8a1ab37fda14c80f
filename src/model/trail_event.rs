//! A write to a resource as CloudTrail's event history records it: who made it, when,
//! which call and from where. `drift` shows these beside changes made outside secinfra.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailEvent {
    /// CloudTrail's id of the event (to find it in the console or with `aws cloudtrail
    /// lookup-events --lookup-attributes AttributeKey=EventId,…`).
    pub id: String,
    /// When the call was made (RFC 3339, UTC).
    pub time: String,
    /// The call, e.g. `AuthorizeSecurityGroupIngress`.
    pub name: String,
    /// The service called, e.g. `ec2.amazonaws.com`.
    pub source: String,
    /// Who called: the principal's ARN (a user, or a role session), else the user name
    /// or the AWS service that called on the account's behalf.
    pub caller: String,
    /// The caller's address (an IP, or a service name for calls AWS made for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    /// The error AWS answered, when the call failed (an attempt, not the change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Made by secinfra (its user agent names it): a later run, not someone else.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_secinfra: bool,
}
