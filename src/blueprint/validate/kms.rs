//! The `kms:` section: customer managed keys with their usage, rotation, alias, deletion
//! window, protection and key policy.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use serde_json::{Value, json};

use super::Checker;
use crate::blueprint::span::Spanned;
use crate::blueprint::types::{Name, TagValue};
use crate::limits::Limit;
use crate::model::{Address, Kind, KmsKeyProps, Props, TAG_DELETION_WINDOW, TAG_PROTECT, Tags};
use crate::naming;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Kms {
    /// Keys by name; each gets the alias `alias/<stack>/<name>`.
    #[serde(default)]
    #[schemars(transform = schema::resource_names)]
    pub keys: BTreeMap<Name, KmsKey>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = schema::kms_key)]
pub struct KmsKey {
    #[serde(default)]
    #[schemars(transform = schema::kms_description)]
    pub description: Option<Spanned<String>>,
    /// What the key is for (default `encrypt_decrypt`). `data_keys_only`: a symmetric key
    /// whose users may only generate data keys and decrypt them (envelope encryption in
    /// the application, e.g. PII fields), never encrypt directly.
    #[serde(default)]
    pub usage: Option<Spanned<KeyUsage>>,
    /// Key spec (default `SYMMETRIC_DEFAULT`): RSA_2048/3072/4096, ECC_NIST_P256/P384/P521,
    /// ECC_SECG_P256K1, HMAC_224/256/384/512.
    #[serde(default)]
    #[schemars(transform = schema::key_spec)]
    pub spec: Option<Spanned<String>>,
    /// Automatic rotation every N days (90-2560); omit for no automatic rotation.
    /// Symmetric encryption keys only.
    #[serde(default)]
    #[schemars(transform = schema::key_rotation_days)]
    pub rotation_days: Option<Spanned<i64>>,
    /// Days a deleted key waits before it is gone (7-30, default 30).
    #[serde(default)]
    #[schemars(transform = schema::deletion_window_days)]
    pub deletion_window_days: Option<Spanned<i64>>,
    /// Hold deletion and replacement unless `--allow-delete-protected` (default true).
    #[serde(default)]
    pub protect: Option<Spanned<bool>>,
    /// IAM principal ARNs allowed to use the key (as its usage permits).
    #[serde(default)]
    pub users: Vec<Spanned<String>>,
    /// IAM principal ARNs allowed to manage the key (besides the account root, which
    /// always keeps access so IAM policies apply).
    #[serde(default)]
    pub administrators: Vec<Spanned<String>>,
    #[serde(default)]
    pub tags: BTreeMap<Name, Spanned<TagValue>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyUsage {
    EncryptDecrypt,
    DataKeysOnly,
    SignVerify,
    GenerateVerifyMac,
}

/// What the secrets section needs to know about a declared key.
#[derive(Clone, Copy, Debug)]
pub(super) struct KeyFacts {
    /// A symmetric encryption key (what Secrets Manager can use).
    pub symmetric_encryption: bool,
}

/// Days between automatic rotations KMS offers.
pub(crate) const ROTATION_DAYS: RangeInclusive<i64> = 90..=2560;
/// Days a deleted key waits.
pub(crate) const DELETION_WINDOW_DAYS: RangeInclusive<i64> = 7..=30;

pub(crate) const SPECS: &[&str] = &[
    "SYMMETRIC_DEFAULT",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "HMAC_224",
    "HMAC_256",
    "HMAC_384",
    "HMAC_512",
    "SM2",
];

impl Checker<'_> {
    pub(super) fn kms(&mut self, kms: Option<&Kms>) -> BTreeMap<String, KeyFacts> {
        let mut facts = BTreeMap::new();
        let Some(kms) = kms else { return facts };
        for (name, key) in &kms.keys {
            let path = format!("kms.keys.{}", name.value);
            self.check_name(name, &path, "KMS key");
            if let Some((props, tags, symmetric_encryption)) = self.kms_key(name, key, &path) {
                self.add(
                    name.span,
                    Address::new(Kind::KmsKey, &name.value),
                    Props::KmsKey(props),
                    tags,
                );
                facts.insert(
                    name.value.clone(),
                    KeyFacts {
                        symmetric_encryption,
                    },
                );
            }
        }
        facts
    }

    fn kms_key(
        &mut self,
        name: &Spanned<String>,
        key: &KmsKey,
        path: &str,
    ) -> Option<(KmsKeyProps, Tags, bool)> {
        let usage = key
            .usage
            .as_ref()
            .map_or(KeyUsage::EncryptDecrypt, |u| u.value);
        let spec = self.key_spec(key, usage, path)?;
        let symmetric_encryption = spec == "SYMMETRIC_DEFAULT"
            && matches!(usage, KeyUsage::EncryptDecrypt | KeyUsage::DataKeysOnly);
        let rotation = match &key.rotation_days {
            None => None,
            Some(days) if !symmetric_encryption => {
                self.error(days.span, format!("{path}.rotation_days"), "automatic rotation applies only to symmetric encryption keys")
                    .help = Some("remove `rotation_days`, or use a SYMMETRIC_DEFAULT key with usage encrypt_decrypt or data_keys_only".into());
                None
            }
            Some(days) if !ROTATION_DAYS.contains(&days.value) => {
                self.error(
                    days.span,
                    format!("{path}.rotation_days"),
                    format!("rotation every {} days is outside 90-2560", days.value),
                )
                .help = Some("KMS rotates keys every 90 to 2560 days".into());
                None
            }
            Some(days) => Some(days.value as i32),
        };
        let window = self.days_in(
            key.deletion_window_days.as_ref(),
            DELETION_WINDOW_DAYS,
            30,
            &format!("{path}.deletion_window_days"),
            "deletion window",
        );
        let description = match &key.description {
            Some(d) => {
                self.limit(&KMS_DESCRIPTION, d, &format!("{path}.description"));
                d.value.clone()
            }
            None => format!("secinfra {} {}", self.stack, name.value),
        };
        let administrators =
            self.principals(&key.administrators, &format!("{path}.administrators"));
        let users = self.principals(&key.users, &format!("{path}.users"));
        let mut tags = self.user_tags(&key.tags, &format!("{path}.tags"));
        let protect = key.protect.as_ref().is_none_or(|p| p.value);
        tags.insert(TAG_PROTECT.into(), protect.to_string());
        tags.insert(TAG_DELETION_WINDOW.into(), window.to_string());
        let props = KmsKeyProps {
            description,
            key_usage: match usage {
                KeyUsage::EncryptDecrypt | KeyUsage::DataKeysOnly => "ENCRYPT_DECRYPT",
                KeyUsage::SignVerify => "SIGN_VERIFY",
                KeyUsage::GenerateVerifyMac => "GENERATE_VERIFY_MAC",
            }
            .into(),
            key_spec: spec,
            state: "Enabled".into(),
            rotation_enabled: rotation.is_some(),
            rotation_period_days: rotation,
            policy: crate::policy::normalize(&self.key_policy(usage, &administrators, &users)),
            aliases: BTreeSet::from([naming::kms_alias(&self.stack, &name.value)]),
        };
        Some((props, tags, symmetric_encryption))
    }

    fn key_spec(&mut self, key: &KmsKey, usage: KeyUsage, path: &str) -> Option<String> {
        let spec = match (&key.spec, usage) {
            (Some(spec), _) => spec.clone(),
            (None, KeyUsage::EncryptDecrypt | KeyUsage::DataKeysOnly) => Spanned::new(
                "SYMMETRIC_DEFAULT".to_string(),
                crate::blueprint::Span::UNKNOWN,
            ),
            (None, _) => {
                let span = key.usage.as_ref().map(|u| u.span).unwrap_or_default();
                self.error(span, format!("{path}.spec"), "this usage needs an explicit key `spec`")
                    .help = Some("sign_verify takes RSA_2048 ... or ECC_NIST_P256 ...; generate_verify_mac takes HMAC_256 ...".into());
                return None;
            }
        };
        if !SPECS.contains(&spec.value.as_str()) {
            self.error(
                spec.span,
                format!("{path}.spec"),
                format!("unknown key spec `{}`", spec.value),
            )
            .help = Some(crate::blueprint::de::suggest(
                &spec.value,
                SPECS,
                "key specs",
            ));
            return None;
        }
        let fits = match usage {
            KeyUsage::EncryptDecrypt => {
                spec.value == "SYMMETRIC_DEFAULT"
                    || spec.value.starts_with("RSA_")
                    || spec.value == "SM2"
            }
            KeyUsage::DataKeysOnly => spec.value == "SYMMETRIC_DEFAULT",
            KeyUsage::SignVerify => {
                spec.value.starts_with("RSA_")
                    || spec.value.starts_with("ECC_")
                    || spec.value == "SM2"
            }
            KeyUsage::GenerateVerifyMac => spec.value.starts_with("HMAC_"),
        };
        if !fits {
            self.error(
                spec.span,
                format!("{path}.spec"),
                format!("a {} key cannot be used for {usage:?}", spec.value),
            )
            .help = Some("data keys need SYMMETRIC_DEFAULT; signing RSA or ECC; MACs HMAC".into());
            return None;
        }
        Some(spec.value)
    }

    /// A number of days within `range` (or `default` when absent).
    pub(super) fn days_in(
        &mut self,
        days: Option<&Spanned<i64>>,
        range: std::ops::RangeInclusive<i64>,
        default: i64,
        path: &str,
        what: &str,
    ) -> i64 {
        match days {
            None => default,
            Some(d) if range.contains(&d.value) => d.value,
            Some(d) => {
                self.error(
                    d.span,
                    path,
                    format!(
                        "a {what} of {} days is outside {}-{}",
                        d.value,
                        range.start(),
                        range.end()
                    ),
                );
                default
            }
        }
    }

    fn principals(&mut self, principals: &[Spanned<String>], path: &str) -> Vec<String> {
        principals
            .iter()
            .filter(|p| {
                let ok = naming::is_principal_arn(&p.value);
                if !ok {
                    self.error(
                        p.span,
                        path,
                        format!("`{}` is not an IAM principal ARN", p.value),
                    )
                    .help = Some(
                        "write arn:aws:iam::<account>:role/<name>, ...:user/<name> or ...:root"
                            .into(),
                    );
                }
                ok
            })
            .map(|p| p.value.clone())
            .collect()
    }

    /// The key policy: the account root keeps full access (so IAM policies apply and the
    /// key can never become unmanageable), administrators manage, users use the key as its
    /// usage allows. A `data_keys_only` key denies direct encryption to everyone.
    fn key_policy(&self, usage: KeyUsage, administrators: &[String], users: &[String]) -> Value {
        let region = self.region.as_deref().unwrap_or("*");
        let partition = naming::partition(region);
        let account = self.account.as_deref().unwrap_or("*");
        let mut statements = vec![json!({
            "Sid": "AccountRootAndIamPolicies",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:{partition}:iam::{account}:root")},
            "Action": "kms:*",
            "Resource": "*",
        })];
        if !administrators.is_empty() {
            statements.push(json!({
                "Sid": "KeyAdministrators",
                "Effect": "Allow",
                "Principal": {"AWS": administrators},
                "Action": [
                    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
                    "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
                    "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
                ],
                "Resource": "*",
            }));
        }
        if !users.is_empty() {
            let actions: &[&str] = match usage {
                KeyUsage::EncryptDecrypt => &[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:DescribeKey",
                ],
                KeyUsage::DataKeysOnly => {
                    &["kms:GenerateDataKey*", "kms:Decrypt", "kms:DescribeKey"]
                }
                KeyUsage::SignVerify => &[
                    "kms:Sign",
                    "kms:Verify",
                    "kms:GetPublicKey",
                    "kms:DescribeKey",
                ],
                KeyUsage::GenerateVerifyMac => {
                    &["kms:GenerateMac", "kms:VerifyMac", "kms:DescribeKey"]
                }
            };
            statements.push(json!({
                "Sid": "KeyUsers",
                "Effect": "Allow",
                "Principal": {"AWS": users},
                "Action": actions,
                "Resource": "*",
            }));
        }
        if usage == KeyUsage::DataKeysOnly {
            statements.push(json!({
                "Sid": "DataKeysOnly",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Encrypt", "kms:ReEncrypt*"],
                "Resource": "*",
            }));
        }
        json!({"Version": "2012-10-17", "Id": "secinfra", "Statement": statements})
    }
}

/// Constraints AWS applies to values of this section, from its API models (`limits`).
pub static LIMITS: &[&Limit] = &[&KMS_DESCRIPTION];

pub static KMS_DESCRIPTION: Limit =
    Limit::new("kms:CreateKey.Description", "a key description", 0, 8192);

/// How the section's fields read in the JSON Schema (`secinfra schema`), beside the
/// shared transforms and helpers.
pub mod schema {
    pub use crate::blueprint::schema::*;
    use schemars::Schema;
    use serde_json::json;

    pub fn kms_description(s: &mut Schema) {
        limit(s, &super::KMS_DESCRIPTION);
    }

    pub fn key_spec(s: &mut Schema) {
        one_of(s, super::SPECS.iter().map(|v| json!(v)));
    }

    pub fn key_rotation_days(s: &mut Schema) {
        range(s, super::ROTATION_DAYS);
    }

    pub fn deletion_window_days(s: &mut Schema) {
        range(s, super::DELETION_WINDOW_DAYS);
    }

    /// Automatic rotation is for symmetric encryption keys only.
    pub fn kms_key(s: &mut Schema) {
        let no_rotation = json!({ "properties": { "rotation_days": { "type": "null" } } });
        all_of(
            s,
            [
                json!({
                    "if": {
                        "properties": { "usage": { "enum": ["sign_verify", "generate_verify_mac"] } },
                        "required": ["usage"]
                    },
                    "then": no_rotation
                }),
                json!({
                    "if": {
                        "properties": { "spec": { "not": { "enum": ["SYMMETRIC_DEFAULT", null] } } },
                        "required": ["spec"]
                    },
                    "then": no_rotation
                }),
            ],
        );
    }
}
