//! `secinfra audit` and `validate --fail-on` through the binary, without AWS: the seed
//! audits clean; an insecure variant fails with the right rules at the right lines and
//! exit 3; JSON and SARIF documents; suppressions in the blueprint and in a file. The
//! SARIF log is checked with Microsoft's SARIF Multitool and its 2.1.0 schema, which
//! `scripts/test.sh` installs (pinned) and names in `SECINFRA_SARIF_MULTITOOL`.

use std::path::{Path, PathBuf};

use crate::support::{expect_code, root, secinfra, stderr, stdout, write};

fn seed() -> String {
    std::fs::read_to_string(root().join("blueprints/api-platform.yaml")).expect("seed")
}

fn edited(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "the seed no longer contains {from:?}");
    text.replacen(from, to, 1)
}

/// 1-based line where `needle` starts in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not found"));
    text[..at].matches('\n').count() + 1
}

/// The seed with four insecure edits, and where each finding must point.
fn insecure() -> (String, Vec<(&'static str, &'static str, String)>) {
    let mut text = seed();
    text = edited(
        &text,
        "      - { port: 443, from: 0.0.0.0/0 }\n",
        "      - { port: 443, from: 0.0.0.0/0 }\n      - { port: 22, from: 0.0.0.0/0 }\n",
    );
    text = edited(
        &text,
        "backup_retention_days: 30",
        "backup_retention_days: 7",
    );
    text = edited(&text, "      - { geo_block: [KP, IR] }\n", "");
    text = edited(
        &text,
        "    multi_region: true\n",
        "    multi_region: false\n",
    );
    let at =
        |needle: &str, column: usize| format!("b.yaml:{}:{column}", line_of(&text, needle) + 1);
    let expected = vec![
        ("SI001", "security_group.alb", at("security_groups:\n", 3)),
        ("SI010", "db_instance.main", at("databases:\n", 3)),
        ("SI015", "web_acl.api", at("waf:\n", 3)),
        // A trail is declared where its key is named.
        ("SI017", "trail.main", {
            let line = line_of(&text, "    kms_key: kms_key.s3 # log files");
            format!("b.yaml:{line}:14")
        }),
    ];
    (text, expected)
}

#[test]
fn the_seed_audits_clean() {
    let out = secinfra()
        .args(["audit", "blueprints/api-platform.yaml"])
        .current_dir(root())
        .output()
        .expect("run");
    expect_code(&out, 0);
    assert!(
        stdout(&out).contains("No findings: blueprints/api-platform.yaml meets all 24 rules."),
        "{}",
        stdout(&out)
    );
    let validate = secinfra()
        .args([
            "validate",
            "blueprints/api-platform.yaml",
            "--fail-on",
            "low",
        ])
        .current_dir(root())
        .output()
        .expect("run");
    expect_code(&validate, 0);
    assert!(!stderr(&validate).contains("SI0"), "{}", stderr(&validate));
}

#[test]
fn an_insecure_blueprint_fails_with_its_rules_and_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (text, expected) = insecure();
    write(dir.path(), "b.yaml", &text);
    let run = |args: &[&str]| {
        secinfra()
            .arg("audit")
            .arg("b.yaml")
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("run")
    };

    let table = run(&[]);
    expect_code(&table, 3);
    let out = stdout(&table);
    for (rule, address, location) in &expected {
        assert!(
            out.lines()
                .any(|l| l.contains(rule) && l.contains(address) && l.ends_with(location.as_str())),
            "{rule} {address} at {location} in\n{out}"
        );
    }
    assert!(
        out.contains("4 findings (3 high, 1 medium); 3 at high or above"),
        "{out}"
    );

    // Only what reaches --fail-on fails the run.
    expect_code(&run(&["--fail-on", "critical"]), 0);
    expect_code(&run(&["--fail-on", "medium"]), 3);

    let json = run(&["--format", "json"]);
    expect_code(&json, 3);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["rule"].as_str().expect("rule"))
        .collect();
    assert_eq!(rules, ["SI001", "SI010", "SI015", "SI017"]);
    assert_eq!(doc["summary"]["failing"], 3);
    assert_eq!(doc["findings"][0]["checkov"][0], "CKV_AWS_24");

    let markdown = stdout(&run(&["--format", "markdown"]));
    assert!(
        markdown.starts_with("### secinfra audit of `b.yaml`")
            && markdown.contains("| high | SI001 | `security_group.alb` | `b.yaml:"),
        "{markdown}"
    );

    let github = run(&["--format", "github"]);
    let annotations = stdout(&github);
    let line = line_of(&text, "databases:\n") + 1;
    assert!(
        annotations.contains(&format!(
            "::warning file=b.yaml,line={line},col=3,title=SI010 Database backups are kept at least 30 days::db_instance.main: backups are kept 7 days"
        )),
        "{annotations}"
    );
    assert_eq!(annotations.matches("::error ").count(), 3, "{annotations}");

    // validate says the same as warnings, and fails only when asked.
    let validate = secinfra()
        .args(["validate", "b.yaml"])
        .current_dir(dir.path())
        .output()
        .expect("run");
    expect_code(&validate, 0);
    assert!(
        stderr(&validate).contains("warning: SI017 high trail.main (b.yaml:"),
        "{}",
        stderr(&validate)
    );
    let strict = secinfra()
        .args(["validate", "b.yaml", "--fail-on", "high"])
        .current_dir(dir.path())
        .output()
        .expect("run");
    expect_code(&strict, 3);
}

/// The Multitool and the schema it ships, when `scripts/test.sh` installed them.
fn multitool() -> Option<(PathBuf, PathBuf)> {
    let tool = PathBuf::from(std::env::var_os("SECINFRA_SARIF_MULTITOOL")?);
    let schema = tool.parent().expect("tool dir").join("sarif-2.1.0.json");
    Some((tool, schema))
}

fn check_sarif(path: &Path) {
    let Some((tool, schema)) = multitool() else {
        eprintln!(
            "SECINFRA_SARIF_MULTITOOL is not set (scripts/test.sh sets it): SARIF not validated"
        );
        return;
    };
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&schema).expect("sarif schema"))
            .expect("schema json");
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("log")).expect("sarif json");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "SARIF schema: {errors:?}");

    let report = path.with_extension("validation.sarif");
    let out = std::process::Command::new(&tool)
        .arg("validate")
        .arg(path)
        .arg("--output")
        .arg(&report)
        .args(["--log", "ForceOverwrite"])
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .output()
        .expect("run the SARIF Multitool");
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    let results: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let errors: Vec<&serde_json::Value> = results["runs"][0]["results"]
        .as_array()
        .map(|r| r.iter().filter(|r| r["level"] == "error").collect())
        .unwrap_or_default();
    assert!(
        out.status.success() && !text.is_empty() && errors.is_empty(),
        "Multitool: {}\n{}\n{errors:#?}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (text, _) = insecure();
    write(dir.path(), "b.yaml", &text);
    let out = secinfra()
        .args(["audit", "b.yaml", "--format", "sarif"])
        .current_dir(dir.path())
        .output()
        .expect("run");
    expect_code(&out, 3);
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 4);
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "b.yaml"
    );
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    assert_eq!(rules.len(), 25, "24 rules and the expired-suppression rule");
    let sarif = write(dir.path(), "audit.sarif", &stdout(&out));
    check_sarif(&sarif);
}

#[test]
fn suppressions_hold_until_their_date_from_the_blueprint_or_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (text, _) = insecure();
    let suppressed = format!(
        "{text}\naudit:\n  suppress:\n    - rule: SI001\n      address: security_group.alb\n      reason: SSH for the migration window\n      owner: platform-team\n      expires: 2999-12-31\n"
    );
    write(dir.path(), "b.yaml", &suppressed);
    write(
        dir.path(),
        "more.yaml",
        "suppress:\n  - { rule: SI015, reason: rules move to the edge ACL, owner: sec-team, expires: 2999-12-31 }\n  - { rule: SI017, reason: old exception, owner: sec-team, expires: 2020-01-31 }\n",
    );
    let out = secinfra()
        .args([
            "audit",
            "b.yaml",
            "--suppressions",
            "more.yaml",
            "--format",
            "json",
        ])
        .current_dir(dir.path())
        .output()
        .expect("run");
    // SI017 is open again, and its expired suppression is a finding of its own.
    expect_code(&out, 3);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let findings = doc["findings"].as_array().expect("findings");
    let open: Vec<&str> = findings
        .iter()
        .filter(|f| f.get("suppressed").is_none())
        .map(|f| f["rule"].as_str().expect("rule"))
        .collect();
    assert_eq!(open, ["SI010", "SI017", "SI000"]);
    let alb = findings
        .iter()
        .find(|f| f["rule"] == "SI001")
        .expect("SI001");
    assert_eq!(alb["suppressed"]["owner"], "platform-team");
    assert!(
        findings.last().expect("SI000")["message"]
            .as_str()
            .expect("message")
            .contains("ended on 2020-01-31"),
        "{doc:#}"
    );

    // A suppression that names no rule is an error at its line.
    write(
        dir.path(),
        "bad.yaml",
        "suppress:\n  - { rule: SI999, reason: r, owner: o, expires: 2999-01-01 }\n",
    );
    let bad = secinfra()
        .args(["audit", "b.yaml", "--suppressions", "bad.yaml"])
        .current_dir(dir.path())
        .output()
        .expect("run");
    expect_code(&bad, 1);
    assert!(
        stderr(&bad).contains("bad.yaml:2:") && stderr(&bad).contains("unknown audit rule `SI999`"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn without_a_blueprint_the_rules_are_listed() {
    let out = secinfra().arg("audit").output().expect("run");
    expect_code(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("SI005  medium    Every KMS key rotates"),
        "{text}"
    );
    assert!(
        text.contains("Prowler kms_cmk_rotation_enabled; Checkov CKV_AWS_7"),
        "{text}"
    );
    assert!(
        text.contains("SI000  high      A suppression has expired"),
        "{text}"
    );
}

#[test]
fn validate_annotates_errors_and_findings_for_github() {
    let bad = secinfra()
        .args([
            "validate",
            "tests/fixtures/bad/overlapping-subnets.yaml",
            "--format",
            "github",
        ])
        .current_dir(root())
        .output()
        .expect("run");
    expect_code(&bad, 1);
    assert!(
        stdout(&bad).starts_with(
            "::error file=tests/fixtures/bad/overlapping-subnets.yaml,line=9,col=21,title=secinfra validate::subnet `data-b`"
        ),
        "{}",
        stdout(&bad)
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let (text, _) = insecure();
    write(dir.path(), "b.yaml", &text);
    let findings = secinfra()
        .args([
            "validate",
            "b.yaml",
            "--format",
            "github",
            "--fail-on",
            "high",
        ])
        .current_dir(dir.path())
        .output()
        .expect("run");
    expect_code(&findings, 3);
    let out = stdout(&findings);
    assert_eq!(out.matches("::error file=b.yaml,").count(), 3, "{out}");
    assert_eq!(out.matches("::warning file=b.yaml,").count(), 1, "{out}");
}
