//! The stack's alert topic (`monitoring.alert_topic`): an SNS topic encrypted with the
//! stack's key, a policy letting only this account's CloudWatch alarms publish, and the
//! declared subscriptions, checked with SNS's and KMS's own describe calls; drift in its
//! policy and subscriptions repaired; gone after destroy.

use std::collections::BTreeSet;

use super::TestStack;
use super::secrets::apply_ok;
use crate::support::{expect_code, stdout};

fn blueprint(stack: &TestStack, subscriptions: &str) -> String {
    format!(
        "version: 1\nstack: {}\nregion: us-east-1\n\
         kms:\n  keys:\n    alerts: {{ description: alert topic }}\n\
         monitoring:\n  alert_topic:\n    kms_key: kms_key.alerts\n    subscriptions: [{subscriptions}]\n",
        stack.name
    )
}

/// The topic's subscriptions as (endpoint, confirmed).
async fn subscriptions(sns: &aws_sdk_sns::Client, arn: &str) -> Vec<(String, bool)> {
    let listed = sns
        .list_subscriptions_by_topic()
        .topic_arn(arn)
        .send()
        .await
        .expect("subscriptions");
    listed
        .subscriptions()
        .iter()
        .map(|s| {
            (
                s.endpoint().unwrap_or_default().to_string(),
                s.subscription_arn().is_some_and(|a| a.starts_with("arn:")),
            )
        })
        .collect()
}

/// Every subscription not yet confirmed is named in the plan, and only those.
fn notes_match(plan: &str, listed: &[(String, bool)]) {
    for (endpoint, confirmed) in listed {
        let noted = plan.contains(&format!("confirmation pending: {endpoint}"));
        assert_eq!(
            noted, !confirmed,
            "{endpoint} (confirmed: {confirmed}):\n{plan}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_alert_topic_is_encrypted_publishable_by_alarms_only_and_kept_true() {
    let stack = TestStack::new("alerts").await;
    let account = stack.account().await;
    let sns = aws_sdk_sns::Client::new(&stack.config);
    let hook = "https://127.0.0.1:9/secinfra-alerts";
    stack.write(
        "blueprint.yaml",
        &blueprint(&stack, &format!("security@example.com, \"{hook}\"")),
    );
    apply_ok(&stack, &[]);

    let name = format!("{}-security-alerts", stack.name);
    let arn = format!("arn:aws:sns:us-east-1:{account}:{name}");
    let attributes = sns
        .get_topic_attributes()
        .topic_arn(&arn)
        .send()
        .await
        .expect("the topic exists");
    let attributes = attributes.attributes().cloned().unwrap_or_default();

    // Encrypted with the stack's key, whose policy lets CloudWatch use it.
    let key_id = attributes.get("KmsMasterKeyId").expect("encrypted").clone();
    let kms = stack.kms();
    let key = kms
        .describe_key()
        .key_id(&key_id)
        .send()
        .await
        .expect("the topic's key");
    let key_id = key.key_metadata().expect("metadata").key_id().to_string();
    let tags = kms
        .list_resource_tags()
        .key_id(&key_id)
        .send()
        .await
        .expect("key tags");
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.tag_key() == "secinfra:address" && t.tag_value() == "kms_key.alerts"),
        "{tags:?}"
    );
    let key_policy = kms
        .get_key_policy()
        .key_id(&key_id)
        .policy_name("default")
        .send()
        .await
        .expect("key policy");
    let key_policy: serde_json::Value =
        serde_json::from_str(key_policy.policy().expect("policy")).expect("JSON");
    let grant = key_policy["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .find(|s| s["Sid"] == "CloudWatchAlarmsUseKeyForAlertTopic")
        .unwrap_or_else(|| panic!("CloudWatch may use the key: {key_policy}"));
    assert_eq!(
        grant["Condition"]["StringEquals"]["aws:SourceAccount"],
        account.as_str()
    );

    // Only CloudWatch alarms of this account publish; nothing without TLS.
    let policy: serde_json::Value =
        serde_json::from_str(attributes.get("Policy").expect("policy")).expect("JSON");
    let statements = policy["Statement"].as_array().expect("statements").clone();
    let publishers: Vec<&serde_json::Value> = statements
        .iter()
        .filter(|s| s["Effect"] == "Allow" && s.to_string().contains("sns:Publish"))
        .collect();
    assert_eq!(publishers.len(), 1, "{policy}");
    assert_eq!(
        publishers[0]["Principal"]["Service"]
            .to_string()
            .trim_matches(['[', ']', '"']),
        "cloudwatch.amazonaws.com"
    );
    assert_eq!(
        publishers[0]["Condition"]["ArnLike"]["aws:SourceArn"],
        format!("arn:aws:cloudwatch:us-east-1:{account}:alarm:*").as_str()
    );
    assert!(
        statements
            .iter()
            .any(|s| s["Effect"] == "Deny" && s.to_string().contains("aws:SecureTransport")),
        "{policy}"
    );

    // Tagged with the stack; both subscriptions made.
    let topic_tags = sns
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("topic tags");
    assert!(
        topic_tags
            .tags()
            .iter()
            .any(|t| t.key() == "secinfra:stack" && t.value() == stack.name),
        "{topic_tags:?}"
    );
    let listed = subscriptions(&sns, &arn).await;
    let endpoints: BTreeSet<&str> = listed.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(endpoints, ["security@example.com", hook].into());

    let replan = stack.run(&[
        "plan",
        "blueprint.yaml",
        "--detailed-exitcode",
        "--no-color",
    ]);
    expect_code(&replan, 0);
    notes_match(&stdout(&replan), &listed);

    // Drift: someone opens the topic to every publisher. Plan shows it; apply repairs it.
    let open = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": arn}],
    });
    sns.set_topic_attributes()
        .topic_arn(&arn)
        .attribute_name("Policy")
        .attribute_value(open.to_string())
        .send()
        .await
        .expect("open the topic");
    let drifted = stack.run(&[
        "plan",
        "blueprint.yaml",
        "--detailed-exitcode",
        "--no-color",
    ]);
    expect_code(&drifted, 2);
    assert!(
        stdout(&drifted).contains("~ sns_topic.alerts"),
        "{}",
        stdout(&drifted)
    );
    apply_ok(&stack, &[]);
    let repaired = sns
        .get_topic_attributes()
        .topic_arn(&arn)
        .send()
        .await
        .expect("attributes");
    let repaired: serde_json::Value = serde_json::from_str(
        repaired
            .attributes()
            .and_then(|a| a.get("Policy"))
            .expect("policy"),
    )
    .expect("JSON");
    let allowed_to_all = repaired["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .any(|s| s["Effect"] == "Allow" && s["Principal"] == "*");
    assert!(
        !allowed_to_all && repaired.to_string().contains("CloudWatchAlarmsPublish"),
        "{repaired}"
    );

    // The e-mail address is dropped from the blueprint and another endpoint added: the
    // new one is subscribed; the old one goes once confirmed (an unconfirmed subscription
    // cannot be deleted, and the plan says so instead of trying).
    let other = "https://127.0.0.1:9/secinfra-other";
    stack.write(
        "blueprint.yaml",
        &blueprint(&stack, &format!("\"{hook}\", \"{other}\"")),
    );
    apply_ok(&stack, &[]);
    let listed = subscriptions(&sns, &arn).await;
    let endpoints: BTreeSet<&str> = listed.iter().map(|(e, _)| e.as_str()).collect();
    assert!(
        endpoints.contains(hook) && endpoints.contains(other),
        "{listed:?}"
    );
    for (endpoint, confirmed) in &listed {
        assert!(
            endpoint != "security@example.com" || !confirmed,
            "a confirmed subscription no longer declared is removed: {listed:?}"
        );
    }
    let settled = stack.run(&[
        "plan",
        "blueprint.yaml",
        "--detailed-exitcode",
        "--no-color",
    ]);
    expect_code(&settled, 0);
    if endpoints.contains("security@example.com") {
        assert!(
            stdout(&settled).contains("security@example.com is no longer declared"),
            "{}",
            stdout(&settled)
        );
    }

    let destroyed = stack.run(&["destroy", "blueprint.yaml", "--auto-approve"]);
    stack.keep("destroy", &destroyed);
    let topics = sns.list_topics().send().await.expect("topics");
    assert!(
        !topics
            .topics()
            .iter()
            .any(|t| t.topic_arn() == Some(arn.as_str())),
        "the topic is deleted: {}",
        stdout(&destroyed)
    );
}
