//! The seed's web ACL, checked rule by rule through the WAFv2 API (LocalStack community
//! offers no wafv2, so these run on moto only).

use aws_sdk_wafv2::types::{Rule, Scope, Statement};

use super::super::TestStack;
use super::super::secrets::apply_ok;
use crate::support::{expect_code, stderr, stdout};

/// The seed's header (stack, region, tags) and its `waf:` section, nothing else (so its
/// log group is not encrypted: the key it names is in the `kms:` section).
fn waf_blueprint(stack: &TestStack) -> String {
    let seed = stack.seed();
    let header_end = seed.find("\nenvironments:").expect("seed header");
    let waf = seed.find("\nwaf:").expect("seed waf section");
    let end = seed
        .find("\n# Data stores")
        .expect("seed databases section");
    // The logs of a test ACL are not worth keeping: `protect: false` lets destroy take
    // the group too (a protected one is held: `destroy_leaves_nothing_tagged_with_the_stack`).
    format!("{}\n{}", &seed[..header_end], &seed[waf..end])
        .replace(", kms_key: kms_key.s3", ", protect: false")
}

struct LiveAcl {
    id: String,
    arn: String,
    rules: Vec<Rule>,
    default_allows: bool,
}

async fn web_acl(stack: &TestStack) -> LiveAcl {
    let waf = stack.waf();
    let name = format!("{}-api", stack.name);
    let listed = waf
        .list_web_acls()
        .scope(Scope::Regional)
        .send()
        .await
        .expect("list web acls");
    let summary = listed
        .web_acls()
        .iter()
        .find(|s| s.name() == Some(name.as_str()))
        .unwrap_or_else(|| panic!("no web ACL named {name}"));
    let got = waf
        .get_web_acl()
        .scope(Scope::Regional)
        .name(&name)
        .id(summary.id().expect("id"))
        .send()
        .await
        .expect("get web acl");
    let acl = got.web_acl().expect("web acl");
    LiveAcl {
        id: acl.id().to_string(),
        arn: acl.arn().to_string(),
        rules: acl.rules().to_vec(),
        default_allows: acl.default_action().and_then(|d| d.allow()).is_some(),
    }
}

/// The IP set behind the ACL's block list: id, lock token, addresses.
async fn blocked_set(stack: &TestStack) -> (String, String, Vec<String>) {
    ip_set(stack, "api-blocked").await
}

/// The stack's IP set `<stack>-<suffix>`: ARN, lock token, addresses (sorted).
async fn ip_set(stack: &TestStack, suffix: &str) -> (String, String, Vec<String>) {
    let waf = stack.waf();
    let name = format!("{}-{suffix}", stack.name);
    let listed = waf
        .list_ip_sets()
        .scope(Scope::Regional)
        .send()
        .await
        .expect("list ip sets");
    let summary = listed
        .ip_sets()
        .iter()
        .find(|s| s.name() == Some(name.as_str()))
        .unwrap_or_else(|| panic!("no IP set named {name}"));
    let got = waf
        .get_ip_set()
        .scope(Scope::Regional)
        .name(&name)
        .id(summary.id().expect("id"))
        .send()
        .await
        .expect("get ip set");
    let set = got.ip_set().expect("ip set");
    let mut addresses = set.addresses().to_vec();
    addresses.sort();
    (
        set.arn().to_string(),
        got.lock_token().expect("lock token").to_string(),
        addresses,
    )
}

fn rule<'a>(rules: &'a [Rule], name: &str) -> &'a Rule {
    rules
        .iter()
        .find(|r| r.name() == name)
        .unwrap_or_else(|| panic!("no rule {name} in {rules:?}"))
}

fn rate_limit(rule: &Rule) -> (i64, i64) {
    let rate = rule
        .statement()
        .and_then(Statement::rate_based_statement)
        .expect("rate-based statement");
    (rate.limit(), rate.evaluation_window_sec())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_web_acl_is_applied_as_declared() {
    let stack = TestStack::new("waf").await;
    stack.write("blueprint.yaml", &waf_blueprint(&stack));
    let output = apply_ok(&stack, &[]);
    assert!(
        stdout(&output).contains("Plan: 5 to add"),
        "{}",
        stdout(&output)
    );

    let acl = web_acl(&stack).await;
    assert!(acl.default_allows);
    let names: Vec<(&str, i32)> = acl.rules.iter().map(|r| (r.name(), r.priority())).collect();
    assert_eq!(
        names,
        [
            ("AWSManagedRulesSQLiRuleSet", 0),
            ("AWSManagedRulesCommonRuleSet", 1),
            ("AWSManagedRulesKnownBadInputsRuleSet", 2),
            ("geo-block", 3),
            ("rate-limit", 4),
            ("login-rate-limit", 5),
            ("ip-block", 6),
            ("incident-block-v4", 7),
            ("incident-block-v6", 8),
        ]
    );
    for r in &acl.rules {
        let visibility = r.visibility_config().expect("visibility");
        assert!(visibility.cloud_watch_metrics_enabled(), "{}", r.name());
        assert!(visibility.sampled_requests_enabled(), "{}", r.name());
    }
    let sqli = rule(&acl.rules, "AWSManagedRulesSQLiRuleSet");
    let managed = sqli
        .statement()
        .and_then(Statement::managed_rule_group_statement)
        .expect("managed group");
    assert_eq!(managed.vendor_name(), "AWS");
    assert_eq!(managed.name(), "AWSManagedRulesSQLiRuleSet");
    assert!(
        sqli.override_action().and_then(|o| o.none()).is_some(),
        "a managed group keeps its own actions"
    );

    let geo = rule(&acl.rules, "geo-block");
    let mut countries: Vec<&str> = geo
        .statement()
        .and_then(Statement::geo_match_statement)
        .expect("geo match")
        .country_codes()
        .iter()
        .map(|c| c.as_str())
        .collect();
    countries.sort();
    assert_eq!(countries, ["IR", "KP"]);
    assert!(geo.action().and_then(|a| a.block()).is_some());

    assert_eq!(rate_limit(rule(&acl.rules, "rate-limit")), (2000, 300));
    let login = rule(&acl.rules, "login-rate-limit");
    assert_eq!(rate_limit(login), (100, 300));
    let scope_down = login
        .statement()
        .and_then(Statement::rate_based_statement)
        .and_then(|r| r.scope_down_statement())
        .and_then(Statement::byte_match_statement)
        .expect("the login limit is scoped to its path");
    assert_eq!(scope_down.search_string().as_ref(), b"/auth/login");
    assert!(
        scope_down
            .field_to_match()
            .and_then(|f| f.uri_path())
            .is_some()
    );

    let (set_arn, _, addresses) = blocked_set(&stack).await;
    assert!(addresses.is_empty(), "{addresses:?}");
    let reference = rule(&acl.rules, "ip-block")
        .statement()
        .and_then(Statement::ip_set_reference_statement)
        .expect("ip set reference");
    assert_eq!(reference.arn(), set_arn);

    // Logging goes to the declared group, which exists with its retention.
    let log_group = format!("aws-waf-logs-{}", stack.name);
    let logging = stack
        .waf()
        .get_logging_configuration()
        .resource_arn(&acl.arn)
        .send()
        .await
        .expect("logging configuration");
    let destinations = logging
        .logging_configuration()
        .expect("logging is on")
        .log_destination_configs();
    assert_eq!(destinations.len(), 1);
    assert!(
        destinations[0].ends_with(&format!(":log-group:{log_group}")),
        "{destinations:?}"
    );
    let groups = stack.log_groups(&log_group).await;
    assert_eq!(groups[0].retention_in_days(), Some(90));

    // Tagged with the stack and each resource's address.
    let tags = stack
        .waf()
        .list_tags_for_resource()
        .resource_arn(&acl.arn)
        .send()
        .await
        .expect("tags");
    let tags: Vec<(String, String)> = tags
        .tag_info_for_resource()
        .map(|t| t.tag_list())
        .unwrap_or_default()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    for want in [
        ("secinfra:stack", stack.name.as_str()),
        ("secinfra:address", "web_acl.api"),
        ("Owner", "platform"),
    ] {
        assert!(
            tags.iter().any(|(k, v)| k == want.0 && v == want.1),
            "{want:?} not in {tags:?}"
        );
    }

    let again = stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]);
    expect_code(&again, 0);

    // An incident: block two addresses. The set is updated in place and the ACL untouched.
    let blueprint = waf_blueprint(&stack).replace(
        "- { ip_block: [] }",
        "- { ip_block: [203.0.113.7/32, 198.51.100.0/24] }",
    );
    stack.write("blueprint.yaml", &blueprint);
    let output = apply_ok(&stack, &[]);
    assert!(
        stdout(&output).contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."),
        "{}",
        stdout(&output)
    );
    let (after_arn, _, addresses) = blocked_set(&stack).await;
    assert_eq!(after_arn, set_arn, "the IP set keeps its identity");
    assert_eq!(addresses, ["198.51.100.0/24", "203.0.113.7/32"]);
    assert_eq!(web_acl(&stack).await.id, acl.id);

    // Destroy removes the ACL, its logging, its log group (marked unprotected) and the set.
    let output = stack.run(&["destroy", "blueprint.yaml", "--auto-approve"]);
    expect_code(&output, 0);
    let groups = stack.log_groups(&log_group).await;
    assert!(groups.is_empty(), "{}", stdout(&output));
    let listed = stack
        .waf()
        .list_web_acls()
        .scope(Scope::Regional)
        .send()
        .await
        .expect("list");
    assert!(
        !listed
            .web_acls()
            .iter()
            .any(|s| s.name() == Some(format!("{}-api", stack.name).as_str()))
    );
    let sets = stack
        .waf()
        .list_ip_sets()
        .scope(Scope::Regional)
        .send()
        .await
        .expect("list");
    assert!(
        !sets
            .ip_sets()
            .iter()
            .any(|s| s.name().is_some_and(|n| n.starts_with(&stack.name)))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn waf_drift_is_shown_rule_by_rule_and_repaired() {
    let stack = TestStack::new("wafdrift").await;
    stack.write("blueprint.yaml", &waf_blueprint(&stack));
    apply_ok(&stack, &[]);
    let acl = web_acl(&stack).await;
    let waf = stack.waf();
    let name = format!("{}-api", stack.name);

    // By hand: the geo block deleted and the general rate limit raised.
    let got = waf
        .get_web_acl()
        .scope(Scope::Regional)
        .name(&name)
        .id(&acl.id)
        .send()
        .await
        .expect("get");
    let current = got.web_acl().expect("acl");
    let rules: Vec<Rule> = current
        .rules()
        .iter()
        .filter(|r| r.name() != "geo-block")
        .map(|r| {
            if r.name() != "rate-limit" {
                return r.clone();
            }
            let mut statement = r.statement().cloned().expect("statement");
            let rate = statement
                .rate_based_statement
                .take()
                .expect("rate statement");
            statement.rate_based_statement = Some(
                aws_sdk_wafv2::types::RateBasedStatement::builder()
                    .limit(5000)
                    .evaluation_window_sec(rate.evaluation_window_sec())
                    .aggregate_key_type(rate.aggregate_key_type().clone())
                    .build()
                    .expect("rate"),
            );
            let mut changed = r.clone();
            changed.statement = Some(statement);
            changed
        })
        .collect();
    waf.update_web_acl()
        .scope(Scope::Regional)
        .name(&name)
        .id(&acl.id)
        .lock_token(got.lock_token().expect("token"))
        .set_default_action(current.default_action().cloned())
        .set_rules(Some(rules))
        .set_visibility_config(current.visibility_config().cloned())
        .send()
        .await
        .expect("update by hand");
    // And an address slipped into the block list.
    let (_, token, _) = blocked_set(&stack).await;
    let set_id = {
        let listed = waf
            .list_ip_sets()
            .scope(Scope::Regional)
            .send()
            .await
            .expect("list");
        listed
            .ip_sets()
            .iter()
            .find(|s| s.name() == Some(format!("{name}-blocked").as_str()))
            .and_then(|s| s.id().map(str::to_string))
            .expect("set id")
    };
    waf.update_ip_set()
        .scope(Scope::Regional)
        .name(format!("{name}-blocked"))
        .id(set_id)
        .lock_token(token)
        .addresses("192.0.2.1/32")
        .send()
        .await
        .expect("set by hand");

    let output = stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]);
    expect_code(&output, 2);
    let out = stdout(&output);
    for line in [
        "  ~ ip_set.api-blocked",
        "      addresses:  - 192.0.2.1/32",
        "  ~ web_acl.api",
        "rules.rate-limit.limit:",
        "5000 → 2000",
        "+ priority: 3, name: geo-block, type: geo_match, countries: [IR, KP], action: block",
        "Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy.",
    ] {
        assert!(out.contains(line), "missing `{line}` in:\n{out}");
    }

    apply_ok(&stack, &[]);
    let repaired = web_acl(&stack).await;
    assert_eq!(repaired.id, acl.id, "repaired in place");
    assert_eq!(rate_limit(rule(&repaired.rules, "rate-limit")), (2000, 300));
    assert_eq!(rule(&repaired.rules, "geo-block").priority(), 3);
    assert_eq!(repaired.rules.len(), 9);
    let (_, _, addresses) = blocked_set(&stack).await;
    assert!(addresses.is_empty(), "{addresses:?}");
    let again = stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]);
    expect_code(&again, 0);
}

/// Containment without an apply: `respond block-ip` fills the seed ACL's incident IP
/// sets (checked through GetIPSet), records who, why and until when beside the lock,
/// refuses bad input changing nothing, loses nobody's addresses when responders race,
/// and `expire-blocks` lifts only what expired. A plan right after shows no change.
#[tokio::test(flavor = "multi_thread")]
async fn incident_blocks_are_added_recorded_expired_and_lifted_without_an_apply() {
    let stack = TestStack::new("respond").await;
    let incident_log = format!("/secinfra/{}/incidents", stack.name);
    stack.write(
        "blueprint.yaml",
        &format!(
            "{}\nincident_log: {{ log_group: {incident_log}, retention_days: 365, protect: false }}\n",
            waf_blueprint(&stack)
        ),
    );
    apply_ok(&stack, &[]);
    let respond = |args: &[&str]| {
        let mut all = vec!["respond"];
        all.extend_from_slice(args);
        stack.run(&all)
    };

    let blocked = respond(&[
        "block-ip",
        "blueprint.yaml",
        "203.0.113.7",
        "2001:db8::/48",
        "--reason",
        "INC-7 credential stuffing",
        "--expires",
        "1h",
        "--yes",
    ]);
    expect_code(&blocked, 0);
    let audit = stderr(&blocked);
    assert!(
        audit.contains("secinfra respond: ")
            && audit.contains("blocked 203.0.113.7/32, 2001:db8::/48 at web_acl.api")
            && audit.contains("reason: INC-7 credential stuffing"),
        "{audit}"
    );
    assert_eq!(
        ip_set(&stack, "api-incident-v4").await.2,
        ["203.0.113.7/32"]
    );
    assert_eq!(ip_set(&stack, "api-incident-v6").await.2, ["2001:db8::/48"]);
    assert!(
        blocked_set(&stack).await.2.is_empty(),
        "the declared list is untouched"
    );
    let recorded = ledger(&stack).await;
    let record = &recorded["blocks"][0];
    assert_eq!(record["cidr"], "203.0.113.7/32");
    assert_eq!(record["web_acl"], "api");
    assert_eq!(record["reason"], "INC-7 credential stuffing");
    assert!(
        record["expires"]
            .as_str()
            .is_some_and(|t| t > record["blocked_at"].as_str().unwrap_or(""))
    );
    assert!(
        record["operator"]
            .as_str()
            .is_some_and(|o| o.starts_with("arn:aws:"))
    );

    // Plans leave incident blocks alone.
    expect_code(
        &stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]),
        0,
    );

    // Bad input: a clear error, nothing changed.
    for (cidr, says) in [
        ("not-an-ip", "is not an IP address"),
        ("10.0.0.1", "--allow-private"),
        ("203.0.113.7", "already blocked"),
        ("203.0.113.7/24", "host bits"),
    ] {
        let refused = respond(&["block-ip", "blueprint.yaml", cidr, "--reason", "x", "--yes"]);
        expect_code(&refused, 1);
        assert!(
            stderr(&refused).contains(says),
            "{cidr}: {}",
            stderr(&refused)
        );
        assert!(
            stderr(&refused).contains("nothing was changed"),
            "{}",
            stderr(&refused)
        );
    }
    let unconfirmed = respond(&["block-ip", "blueprint.yaml", "192.0.2.200", "--reason", "x"]);
    expect_code(&unconfirmed, 1);
    assert_eq!(
        ip_set(&stack, "api-incident-v4").await.2,
        ["203.0.113.7/32"]
    );

    // Four responders at once: every address lands, in the set and the ledger.
    let racing: Vec<std::process::Child> = (1..=4)
        .map(|i| {
            stack
                .process()
                .args([
                    "respond",
                    "block-ip",
                    "blueprint.yaml",
                    &format!("192.0.2.{i}"),
                    "--reason",
                    &format!("responder {i}"),
                    "--yes",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for child in racing {
        let output = child.wait_with_output().expect("wait");
        expect_code(&output, 0);
    }
    let v4 = ip_set(&stack, "api-incident-v4").await.2;
    for i in 1..=4 {
        assert!(v4.contains(&format!("192.0.2.{i}/32")), "{v4:?}");
    }
    assert_eq!(
        ledger(&stack).await["blocks"].as_array().map(Vec::len),
        Some(6)
    );

    // Expiry lifts only what expired.
    expect_code(
        &respond(&[
            "block-ip",
            "blueprint.yaml",
            "198.51.100.77",
            "--reason",
            "brief",
            "--expires",
            "1s",
            "--yes",
        ]),
        0,
    );
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let expired = respond(&["expire-blocks", "blueprint.yaml", "--yes", "--json"]);
    expect_code(&expired, 0);
    let expired: serde_json::Value = serde_json::from_slice(&expired.stdout).expect("json");
    assert_eq!(
        expired["expired"].as_array().map(Vec::len),
        Some(1),
        "{expired}"
    );
    assert_eq!(expired["expired"][0]["cidr"], "198.51.100.77/32");
    let v4 = ip_set(&stack, "api-incident-v4").await.2;
    assert!(!v4.contains(&"198.51.100.77/32".to_string()), "{v4:?}");
    assert_eq!(v4.len(), 5, "{v4:?}");

    // Unblock, then the list says what is left and who put it there.
    let lifted = respond(&[
        "unblock-ip",
        "blueprint.yaml",
        "203.0.113.7",
        "--reason",
        "false positive",
        "--yes",
    ]);
    expect_code(&lifted, 0);
    assert!(
        stderr(&lifted).contains("unblocked 203.0.113.7/32"),
        "{}",
        stderr(&lifted)
    );
    let listed = respond(&["list-blocks", "blueprint.yaml", "--json"]);
    expect_code(&listed, 0);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    let cidrs: Vec<&str> = listed["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .filter_map(|b| b["cidr"].as_str())
        .collect();
    assert_eq!(cidrs.len(), 5, "{listed}");
    assert!(!cidrs.contains(&"203.0.113.7/32"));
    assert!(
        listed["blocks"]
            .as_array()
            .expect("blocks")
            .iter()
            .all(|b| b["record"]["reason"].is_string())
    );
    expect_code(
        &stack.run(&["plan", "blueprint.yaml", "--detailed-exitcode"]),
        0,
    );

    // Every change is in the incident log too, as a JSON line per change.
    let logged = stack
        .logs()
        .filter_log_events()
        .log_group_name(&incident_log)
        .send()
        .await
        .expect("incident log events");
    let lines: Vec<serde_json::Value> = logged
        .events()
        .iter()
        .filter_map(|e| e.message())
        .map(|m| serde_json::from_str(m).expect("a JSON line"))
        .collect();
    let verbs: Vec<&str> = lines.iter().filter_map(|l| l["verb"].as_str()).collect();
    assert_eq!(
        verbs.iter().filter(|v| **v == "block-ip").count(),
        6,
        "{verbs:?}"
    );
    assert_eq!(
        verbs.iter().filter(|v| **v == "expire-blocks").count(),
        1,
        "{verbs:?}"
    );
    assert_eq!(
        verbs.iter().filter(|v| **v == "unblock-ip").count(),
        1,
        "{verbs:?}"
    );
    let first = lines
        .iter()
        .find(|l| l["reason"] == "INC-7 credential stuffing")
        .expect("the first block's line");
    assert_eq!(first["stack"], stack.name.as_str());
    assert!(
        first["operator"]
            .as_str()
            .is_some_and(|o| o.starts_with("arn:aws:"))
    );
    assert!(
        first["what"]
            .as_str()
            .is_some_and(|w| w.contains("203.0.113.7/32"))
    );
}

/// The block ledger beside the stack's lock.
async fn ledger(stack: &TestStack) -> serde_json::Value {
    let account = stack.account().await;
    let object = stack
        .s3()
        .get_object()
        .bucket(format!("secinfra-locks-{account}-us-east-1"))
        .key(format!("incidents/{}/blocks.json", stack.name))
        .send()
        .await
        .expect("the ledger");
    serde_json::from_slice(&object.body.collect().await.expect("body").into_bytes()).expect("json")
}
