//! First values for secrets. Passwords come from Secrets Manager's own generator
//! (GetRandomPassword, every character class required); key pairs and random bytes from
//! AWS-LC (`aws-lc-rs`), the vetted library the SDK's TLS already uses. Values exist only
//! in memory on their way to CreateSecret: they are never logged, printed or returned.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;

use crate::aws::AwsContext;
use crate::aws::error::{AwsError, ErrorKind};
use crate::model::InitialValue;

pub async fn generate(ctx: &AwsContext, recipe: &InitialValue) -> Result<String, AwsError> {
    match recipe {
        InitialValue::Password {
            length,
            username,
            exclude_characters,
        } => {
            let out = crate::call!(
                ctx.secrets()
                    .get_random_password()
                    .password_length(i64::from(*length))
                    .require_each_included_type(true)
                    .set_exclude_characters(exclude_characters.clone()),
                "secretsmanager:GetRandomPassword"
            )?;
            let password = out.random_password().unwrap_or_default().to_string();
            if password.chars().count() != *length as usize {
                return Err(AwsError::new(
                    "secretsmanager:GetRandomPassword",
                    ErrorKind::Other,
                    format!("returned a password of the wrong length (asked for {length})"),
                ));
            }
            Ok(match username {
                Some(user) => {
                    serde_json::json!({"username": user, "password": password}).to_string()
                }
                None => password,
            })
        }
        InitialValue::Rsa { bits } => rsa_key_pair(*bits),
        InitialValue::Random { bytes } => random_bytes(*bytes),
    }
}

/// An RSA key pair as JSON: PKCS#8 private key and SubjectPublicKeyInfo public key, PEM.
pub fn rsa_key_pair(bits: u32) -> Result<String, AwsError> {
    let failed = |what: &str| {
        AwsError::new(
            "generate",
            ErrorKind::Other,
            format!("RSA-{bits} key generation failed: {what}"),
        )
    };
    let size = match bits {
        2048 => KeySize::Rsa2048,
        3072 => KeySize::Rsa3072,
        4096 => KeySize::Rsa4096,
        _ => return Err(failed("unsupported size")),
    };
    let pair = KeyPair::generate(size).map_err(|_| failed("generate"))?;
    let private: Pkcs8V1Der = pair.as_der().map_err(|_| failed("encode private key"))?;
    let public: PublicKeyX509Der = pair
        .public_key()
        .as_der()
        .map_err(|_| failed("encode public key"))?;
    Ok(serde_json::json!({
        "algorithm": "RS256",
        "bits": bits,
        "private_key": pem("PRIVATE KEY", private.as_ref()),
        "public_key": pem("PUBLIC KEY", public.as_ref()),
    })
    .to_string())
}

pub fn random_bytes(count: u32) -> Result<String, AwsError> {
    let mut bytes = vec![0u8; count as usize];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| {
        AwsError::new(
            "generate",
            ErrorKind::Other,
            "the system random number generator failed",
        )
    })?;
    Ok(aws_smithy_types::base64::encode(&bytes))
}

/// PEM (RFC 7468): base64 in lines of 64 characters between BEGIN/END labels.
fn pem(label: &str, der: &[u8]) -> String {
    let body = aws_smithy_types::base64::encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der_of(pem: &str) -> Vec<u8> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        aws_smithy_types::base64::decode(body).expect("base64")
    }

    #[test]
    fn rsa_pairs_parse_and_match() {
        let value: serde_json::Value =
            serde_json::from_str(&rsa_key_pair(2048).expect("generate")).expect("json");
        assert_eq!(value["algorithm"], "RS256");
        let private = value["private_key"].as_str().expect("private");
        let public = value["public_key"].as_str().expect("public");
        assert!(private.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(private.lines().all(|l| l.len() <= 64));
        let pair = KeyPair::from_pkcs8(&der_of(private)).expect("a valid PKCS#8 RSA key");
        assert_eq!(pair.public_modulus_len() * 8, 2048);
        let derived: PublicKeyX509Der = pair.public_key().as_der().expect("der");
        assert_eq!(
            derived.as_ref(),
            der_of(public).as_slice(),
            "the public key belongs to the private key"
        );
    }

    #[test]
    fn random_values_differ_and_have_their_length() {
        let a = random_bytes(32).expect("random");
        let b = random_bytes(32).expect("random");
        assert_ne!(a, b);
        assert_eq!(
            aws_smithy_types::base64::decode(&a).expect("base64").len(),
            32
        );
    }
}
