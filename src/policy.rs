//! IAM policy documents compared by meaning, not by text.
//!
//! AWS returns policies reformatted (and, for IAM, URL-encoded), and writers vary in
//! whether a single action is a string or a one-element list. Normalising both sides —
//! keys sorted, list-or-string fields as sorted, de-duplicated lists, `Statement` always a
//! list — means formatting never shows up as a difference.

use serde_json::{Map, Value};

/// Fields whose value may be a string or a list of strings with the same meaning.
const LIST_FIELDS: &[&str] = &["Action", "NotAction", "Resource", "NotResource"];

pub fn normalize(value: &Value) -> Value {
    normalize_in(value, None)
}

/// A bucket policy statement refusing every request that does not use TLS ("Enforce
/// encryption of data in transit", https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html).
pub fn deny_plain_http(bucket_arn: &str) -> Value {
    serde_json::json!({
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, format!("{bucket_arn}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    })
}

/// Parses a policy document as AWS returns it: JSON, possibly percent-encoded (IAM).
pub fn parse(document: &str) -> Result<Value, serde_json::Error> {
    let trimmed = document.trim();
    let decoded = if trimmed.starts_with('%') || !trimmed.starts_with('{') {
        percent_encoding::percent_decode_str(trimmed)
            .decode_utf8_lossy()
            .into_owned()
    } else {
        trimmed.to_string()
    };
    serde_json::from_str::<Value>(&decoded).map(|v| normalize(&v))
}

fn normalize_in(value: &Value, key: Option<&str>) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                let v = &map[k];
                let normalized = if k == "Statement" {
                    let statements = match v {
                        Value::Array(items) => {
                            items.iter().map(|s| normalize_in(s, None)).collect()
                        }
                        other => vec![normalize_in(other, None)],
                    };
                    Value::Array(statements)
                } else if LIST_FIELDS.contains(&k.as_str()) || key == Some("Principal") {
                    string_list(v)
                } else {
                    normalize_in(v, Some(k))
                };
                out.insert(k.clone(), normalized);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| normalize_in(v, None)).collect()),
        other => other.clone(),
    }
}

fn string_list(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::Array(vec![Value::String(s.clone())]),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let mut strings: Vec<String> = items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            strings.sort();
            strings.dedup();
            Value::Array(strings.into_iter().map(Value::String).collect())
        }
        other => normalize_in(other, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formatting_differences_normalise_away() {
        let a = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}, "Action": "sts:AssumeRole"}});
        let b = json!({"Statement": [{"Action": ["sts:AssumeRole"], "Effect": "Allow",
            "Principal": {"Service": ["vpc-flow-logs.amazonaws.com"]}}], "Version": "2012-10-17"});
        assert_eq!(normalize(&a), normalize(&b));
    }

    #[test]
    fn real_differences_remain() {
        let a = json!({"Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents"}]});
        let b = json!({"Statement": [{"Effect": "Allow", "Action": "logs:*"}]});
        assert_ne!(normalize(&a), normalize(&b));
    }

    #[test]
    fn url_encoded_documents_parse() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(
            parse(encoded).unwrap(),
            json!({"Statement": [], "Version": "2012-10-17"})
        );
    }
}
