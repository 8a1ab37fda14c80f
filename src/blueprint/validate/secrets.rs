//! The `secrets:` section: names, encryption key, rotation, first-value generation,
//! recovery window and resource policy. Values themselves never appear in a blueprint.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use super::Checker;
use super::kms::KeyFacts;
use crate::blueprint::span::Spanned;
use crate::blueprint::types::{Name, TagValue};
use crate::limits::Limit;
use crate::model::{Address, InitialValue, Kind, Props, Ref, SecretProps, TAG_RECOVERY_WINDOW};
use crate::naming;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = schema::secret)]
pub struct Secret {
    /// Secret name (default `<stack>/<name>`).
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    #[schemars(transform = schema::secret_description)]
    pub description: Option<Spanned<String>>,
    /// `kms_key.<name>`, a key ARN or `alias/...`; omit for the AWS managed key.
    #[serde(default)]
    pub kms_key: Option<Spanned<String>>,
    /// `manual` (no automatic rotation, the default) or a schedule with a rotation Lambda
    /// (`lambda_arn`, or `lambda` for a function name).
    #[serde(default)]
    pub rotation: Option<Spanned<Rotation>>,
    /// How to generate the first value; never regenerated. Omit to set the value out of band.
    #[serde(default)]
    pub generate: Option<Spanned<Generate>>,
    /// Days a deleted secret stays recoverable (7-30, default 30).
    #[serde(default)]
    #[schemars(transform = schema::recovery_window_days)]
    pub recovery_window_days: Option<Spanned<i64>>,
    /// Resource policy (IAM policy document); public access is always blocked.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub policy: Option<Spanned<serde_json::Value>>,
    /// Never accepted: recognised only to say so clearly.
    #[serde(default)]
    #[schemars(skip)]
    pub value: Option<Spanned<de::IgnoredAny>>,
    #[serde(default)]
    pub tags: BTreeMap<Name, Spanned<TagValue>>,
}

/// `manual`, or `{ every_days | schedule, lambda }`.
#[derive(Debug, JsonSchema)]
#[schemars(with = "RotationSchema")]
pub enum Rotation {
    Manual,
    Scheduled(RotationSchedule),
}

#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum RotationSchema {
    /// No automatic rotation.
    Manual(ManualWord),
    Scheduled(RotationSchedule),
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum ManualWord {
    Manual,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = schema::rotation_schedule)]
pub struct RotationSchedule {
    /// Rotate every N days (1-1000).
    #[serde(default)]
    #[schemars(transform = schema::rotation_every_days)]
    pub every_days: Option<Spanned<i64>>,
    /// Or a schedule expression: `rate(30 days)`, `cron(0 4 ? * SUN *)`.
    #[serde(default)]
    #[schemars(transform = schema::rotation_schedule_expression)]
    pub schedule: Option<Spanned<String>>,
    /// The rotation function's ARN.
    #[serde(default)]
    pub lambda_arn: Option<Spanned<String>>,
    /// Or the rotation function's name, in the stack's account and region.
    #[serde(default)]
    pub lambda: Option<Spanned<String>>,
}

impl<'de> Deserialize<'de> for Rotation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RotationVisitor;
        impl<'de> Visitor<'de> for RotationVisitor {
            type Value = Rotation;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`manual` or a mapping with `every_days` or `schedule`, and `lambda`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Rotation, E> {
                match v {
                    "manual" => Ok(Rotation::Manual),
                    other => Err(E::unknown_variant(other, &["manual"])),
                }
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Rotation, A::Error> {
                RotationSchedule::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(Rotation::Scheduled)
            }
        }
        deserializer.deserialize_any(RotationVisitor)
    }
}

/// How a secret's first value is generated.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Generate {
    /// A password from Secrets Manager's generator, with upper and lower case letters,
    /// digits and punctuation.
    Password(PasswordSpec),
    /// An RSA key pair for RS256 signing, stored as JSON with PEM keys.
    Rsa(RsaSpec),
    /// Random bytes, base64-encoded.
    Random(RandomSpec),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordSpec {
    /// Characters (12-4096, default 32).
    #[serde(default)]
    #[schemars(transform = schema::password_length)]
    pub length: Option<Spanned<i64>>,
    /// Store `{"username": ..., "password": ...}` instead of the bare password.
    #[serde(default)]
    pub username: Option<Spanned<String>>,
    /// Characters the password must not contain.
    #[serde(default)]
    #[schemars(transform = schema::exclude_characters)]
    pub exclude_characters: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RsaSpec {
    /// Key size: 2048, 3072 or 4096 (default 2048).
    #[serde(default)]
    #[schemars(transform = schema::rsa_bits)]
    pub bits: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RandomSpec {
    /// Number of random bytes (16-4096).
    #[schemars(transform = schema::random_bytes)]
    pub bytes: Spanned<i64>,
}

/// Days a deleted secret stays recoverable.
pub(crate) const RECOVERY_WINDOW_DAYS: RangeInclusive<i64> = 7..=30;
/// `every_days` of a rotation schedule.
pub(crate) const ROTATION_EVERY_DAYS: RangeInclusive<i64> = 1..=1000;
/// Characters of a generated password (the password policy asks for at least 12).
pub(crate) const PASSWORD_LENGTH: RangeInclusive<i64> = 12..=4096;
pub(crate) const RSA_BITS: &[i64] = &[2048, 3072, 4096];
pub(crate) const RANDOM_BYTES: RangeInclusive<i64> = 16..=4096;

/// Rotation as Secrets Manager stores it.
struct RotationSettings {
    enabled: bool,
    lambda: Option<String>,
    every_days: Option<i64>,
    schedule: Option<String>,
}

impl Checker<'_> {
    pub(super) fn secrets(
        &mut self,
        secrets: &BTreeMap<Spanned<String>, Secret>,
        keys: &BTreeMap<String, KeyFacts>,
    ) {
        for (name, secret) in secrets {
            let path = format!("secrets.{}", name.value);
            self.check_name(name, &path, "secret");
            if let Some(value) = &secret.value {
                // Never quote the line: it holds the value.
                let diagnostic = crate::blueprint::Diagnostic::error("a blueprint never holds a secret value")
                    .with_position(self.source, value.span)
                    .with_path(format!("{path}.value"))
                    .with_help(
                        "use `generate:` (password, rsa, random) to create it, or set it out of band \
                         (aws secretsmanager put-secret-value); remove it from this file and from version control",
                    );
                self.diagnostics.push(diagnostic);
            }
            let secret_name = match &secret.name {
                Some(n) => {
                    if let Err(problem) = naming::check_secret_name(&n.value) {
                        self.error(
                            n.span,
                            format!("{path}.name"),
                            format!("invalid secret name `{}`: {problem}", n.value),
                        );
                    }
                    n.value.clone()
                }
                None => format!("{}/{}", self.stack, name.value),
            };
            let description = match &secret.description {
                Some(d) => {
                    self.limit(&SECRET_DESCRIPTION, d, &format!("{path}.description"));
                    d.value.clone()
                }
                None => String::new(),
            };
            let kms_key = secret.kms_key.as_ref().and_then(|k| {
                self.kms_key_ref(k, keys, &format!("{path}.kms_key"), "Secrets Manager")
            });
            let rotation = self.rotation(secret.rotation.as_ref(), &format!("{path}.rotation"));
            let initial_value = secret
                .generate
                .as_ref()
                .and_then(|g| self.generate(g, &format!("{path}.generate")));
            let window = self.days_in(
                secret.recovery_window_days.as_ref(),
                RECOVERY_WINDOW_DAYS,
                30,
                &format!("{path}.recovery_window_days"),
                "recovery window",
            );
            let policy = secret.policy.as_ref().and_then(|p| {
                if p.value.get("Statement").is_none() {
                    self.error(p.span, format!("{path}.policy"), "a resource policy needs a `Statement`")
                        .help = Some("write an IAM policy document: { Version: \"2012-10-17\", Statement: [...] }".into());
                    return None;
                }
                Some(crate::policy::normalize(&p.value))
            });
            let mut tags = self.user_tags(&secret.tags, &format!("{path}.tags"));
            tags.insert(TAG_RECOVERY_WINDOW.into(), window.to_string());
            self.add(
                name.span,
                Address::new(Kind::Secret, &name.value),
                Props::Secret(SecretProps {
                    name: secret_name,
                    description,
                    kms_key,
                    state: "active".into(),
                    rotation_enabled: rotation.enabled,
                    rotation_lambda: rotation.lambda,
                    rotation_every_days: rotation.every_days,
                    rotation_schedule: rotation.schedule,
                    policy,
                    initial_value,
                }),
                tags,
            );
        }
    }

    /// A reference to a symmetric encryption key: `kms_key.<name>`, a key ARN or an alias.
    pub(super) fn kms_key_ref(
        &mut self,
        key: &Spanned<String>,
        keys: &BTreeMap<String, KeyFacts>,
        path: &str,
        service: &str,
    ) -> Option<Ref> {
        let value = key.value.trim();
        if let Some(name) = value.strip_prefix("kms_key.") {
            return match keys.get(name) {
                Some(facts) if facts.symmetric_encryption => {
                    Some(Ref::Address(Address::new(Kind::KmsKey, name)))
                }
                Some(_) => {
                    self.error(
                        key.span,
                        path,
                        format!("`{value}` is not a symmetric encryption key"),
                    )
                    .help = Some(format!(
                        "{service} encrypts with SYMMETRIC_DEFAULT keys (usage encrypt_decrypt or data_keys_only)"
                    ));
                    None
                }
                None => {
                    let expected: Vec<&str> = keys.keys().map(String::as_str).collect();
                    let diagnostic =
                        self.error(key.span, path, format!("`{value}` does not exist"));
                    diagnostic.label = Some("no such KMS key".into());
                    diagnostic.help = Some(crate::blueprint::de::suggest(name, &expected, "keys"));
                    None
                }
            };
        }
        if value.starts_with("alias/") || (value.starts_with("arn:") && value.contains(":kms:")) {
            return Some(Ref::External(value.to_string()));
        }
        self.error(
            key.span,
            path,
            format!("`{value}` is not a KMS key reference"),
        )
        .help = Some("write `kms_key.<name>`, a key ARN or an alias (`alias/...`)".into());
        None
    }

    fn rotation(&mut self, rotation: Option<&Spanned<Rotation>>, path: &str) -> RotationSettings {
        let off = RotationSettings {
            enabled: false,
            lambda: None,
            every_days: None,
            schedule: None,
        };
        let Some(rotation) = rotation else { return off };
        let Rotation::Scheduled(schedule) = &rotation.value else {
            return off;
        };
        let every_days = match (&schedule.every_days, &schedule.schedule) {
            (Some(_), Some(s)) => {
                self.error(
                    s.span,
                    format!("{path}.schedule"),
                    "give `every_days` or `schedule`, not both",
                );
                None
            }
            (Some(days), None) if !ROTATION_EVERY_DAYS.contains(&days.value) => {
                self.error(
                    days.span,
                    format!("{path}.every_days"),
                    format!("rotation every {} days is outside 1-1000", days.value),
                );
                None
            }
            (Some(days), None) => Some(days.value),
            (None, Some(s)) => naming::rate_in_days(&s.value),
            (None, None) => {
                self.error(rotation.span, path, "a rotation schedule needs `every_days` or `schedule`")
                    .help = Some("write `rotation: { every_days: 30, lambda: <function> }`, or `rotation: manual`".into());
                None
            }
        };
        let expression = match (&schedule.schedule, every_days) {
            (Some(s), None) => {
                if !naming::is_schedule_expression(&s.value) {
                    self.error(
                        s.span,
                        format!("{path}.schedule"),
                        format!("`{}` is not a schedule expression", s.value),
                    )
                    .help = Some("write `rate(30 days)` or `cron(0 4 ? * SUN *)`".into());
                } else {
                    self.limit(&ROTATION_SCHEDULE, s, &format!("{path}.schedule"));
                }
                Some(s.value.clone())
            }
            _ => None,
        };
        let lambda = match (&schedule.lambda_arn, &schedule.lambda) {
            (None, None) => {
                self.error(rotation.span, format!("{path}.lambda_arn"), "automatic rotation needs a rotation `lambda_arn`")
                    .help = Some("give the rotation function's ARN (`lambda_arn: arn:aws:lambda:...`) or its name (`lambda: my-rotation-fn`); or use `rotation: manual`".into());
                None
            }
            (Some(arn), Some(_)) => {
                self.error(
                    arn.span,
                    format!("{path}.lambda_arn"),
                    "give `lambda_arn` or `lambda`, not both",
                );
                None
            }
            (Some(arn), None) => {
                if naming::is_lambda_arn(arn.value.trim()) {
                    Some(arn.value.trim().to_string())
                } else {
                    self.error(arn.span, format!("{path}.lambda_arn"), format!("`{}` is not a Lambda function ARN", arn.value))
                        .help = Some("write arn:aws:lambda:<region>:<account>:function:<name>, or use `lambda: <name>`".into());
                    None
                }
            }
            (None, Some(name)) => self.lambda_arn(name, &format!("{path}.lambda")),
        };
        RotationSettings {
            enabled: true,
            lambda,
            every_days,
            schedule: expression,
        }
    }

    fn lambda_arn(&mut self, lambda: &Spanned<String>, path: &str) -> Option<String> {
        let value = lambda.value.trim();
        if value.starts_with("arn:") {
            if !naming::is_lambda_arn(value) {
                self.error(
                    lambda.span,
                    path,
                    format!("`{value}` is not a Lambda function ARN"),
                );
                return None;
            }
            return Some(value.to_string());
        }
        if !naming::is_function_name(value) {
            self.error(
                lambda.span,
                path,
                format!("`{value}` is not a Lambda function name"),
            )
            .help = Some("function names are 1-64 letters, digits, hyphens and underscores".into());
            return None;
        }
        let region = self.region.as_deref().unwrap_or("*");
        let account = self.account.as_deref().unwrap_or("*");
        Some(format!(
            "arn:{}:lambda:{region}:{account}:function:{value}",
            naming::partition(region)
        ))
    }

    fn generate(&mut self, generate: &Spanned<Generate>, path: &str) -> Option<InitialValue> {
        match &generate.value {
            Generate::Password(spec) => {
                let length = match &spec.length {
                    None => 32,
                    Some(l) if PASSWORD_LENGTH.contains(&l.value) => l.value,
                    Some(l) => {
                        self.error(
                            l.span,
                            format!("{path}.password.length"),
                            format!("a password of {} characters is outside 12-4096", l.value),
                        )
                        .help = Some("the password policy asks for at least 12 characters".into());
                        return None;
                    }
                };
                if let Some(exclude) = &spec.exclude_characters {
                    self.limit(
                        &EXCLUDE_CHARACTERS,
                        exclude,
                        &format!("{path}.password.exclude_characters"),
                    );
                }
                Some(InitialValue::Password {
                    length: length as u32,
                    username: spec.username.as_ref().map(|u| u.value.clone()),
                    exclude_characters: spec.exclude_characters.as_ref().map(|e| e.value.clone()),
                })
            }
            Generate::Rsa(spec) => {
                let bits = spec.bits.as_ref().map_or(2048, |b| b.value);
                if !RSA_BITS.contains(&bits) {
                    let span = spec.bits.as_ref().map_or(generate.span, |b| b.span);
                    self.error(
                        span,
                        format!("{path}.rsa.bits"),
                        format!("RSA keys of {bits} bits are not offered"),
                    )
                    .help = Some("use 2048, 3072 or 4096".into());
                    return None;
                }
                Some(InitialValue::Rsa { bits: bits as u32 })
            }
            Generate::Random(spec) => {
                if !RANDOM_BYTES.contains(&spec.bytes.value) {
                    self.error(
                        spec.bytes.span,
                        format!("{path}.random.bytes"),
                        format!("{} random bytes is outside 16-4096", spec.bytes.value),
                    );
                    return None;
                }
                Some(InitialValue::Random {
                    bytes: spec.bytes.value as u32,
                })
            }
        }
    }
}

/// Constraints AWS applies to values of this section, from its API models (`limits`).
pub static LIMITS: &[&Limit] = &[&SECRET_DESCRIPTION, &ROTATION_SCHEDULE, &EXCLUDE_CHARACTERS];

pub static SECRET_DESCRIPTION: Limit = Limit::new(
    "secretsmanager:CreateSecret.Description",
    "a secret description",
    0,
    2048,
);
pub static ROTATION_SCHEDULE: Limit = Limit::new(
    "secretsmanager:RotateSecret.RotationRules.ScheduleExpression",
    "a rotation schedule",
    1,
    256,
)
.pattern(
    r"[0-9A-Za-z\(\)#\?\*\-\/, ]+",
    "ASCII letters, digits, spaces and ( ) # ? * - / ,",
);
pub static EXCLUDE_CHARACTERS: Limit = Limit::new(
    "secretsmanager:GetRandomPassword.ExcludeCharacters",
    "the characters to exclude",
    0,
    4096,
);

/// How the section's fields read in the JSON Schema (`secinfra schema`), beside the
/// shared transforms and helpers.
pub mod schema {
    pub use crate::blueprint::schema::*;
    use schemars::Schema;
    use serde_json::{Value, json};

    /// `value` is known so that it gets its own answer (`validate`: use `generate:`); the
    /// schema refuses any value for it.
    pub fn secret(s: &mut Schema) {
        if let Some(Value::Object(properties)) = s.get_mut("properties") {
            properties.insert(
                "value".into(),
                json!({
                    "description": "Never accepted: a blueprint never holds a secret value. Use `generate:`, or set the value out of band.",
                    "not": {}
                }),
            );
        }
    }

    pub fn secret_description(s: &mut Schema) {
        limit(s, &super::SECRET_DESCRIPTION);
    }

    pub fn recovery_window_days(s: &mut Schema) {
        range(s, super::RECOVERY_WINDOW_DAYS);
    }

    pub fn rotation_every_days(s: &mut Schema) {
        range(s, super::ROTATION_EVERY_DAYS);
    }

    pub fn rotation_schedule_expression(s: &mut Schema) {
        limit(s, &super::ROTATION_SCHEDULE);
    }

    /// A schedule needs `every_days` or `schedule` (not both) and `lambda_arn` or `lambda`.
    pub fn rotation_schedule(s: &mut Schema) {
        all_of(
            s,
            [
                json!({ "oneOf": [present("every_days"), present("schedule")] }),
                json!({ "anyOf": [present("lambda_arn"), present("lambda")] }),
            ],
        );
    }

    pub fn password_length(s: &mut Schema) {
        range(s, super::PASSWORD_LENGTH);
    }

    pub fn exclude_characters(s: &mut Schema) {
        limit(s, &super::EXCLUDE_CHARACTERS);
    }

    pub fn rsa_bits(s: &mut Schema) {
        one_of(s, super::RSA_BITS.iter().map(|b| json!(b)));
    }

    pub fn random_bytes(s: &mut Schema) {
        range(s, super::RANDOM_BYTES);
    }
}
