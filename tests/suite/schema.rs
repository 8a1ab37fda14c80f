//! The JSON Schema `secinfra schema` prints agrees with `validate`: every blueprint
//! `validate` rejects for a reason a schema can express is rejected by the schema too, and
//! every blueprint `validate` accepts (the sample, the README's examples, each environment
//! overlay) is accepted by it. An editor or `check-jsonschema` in CI then says what
//! `secinfra validate` would.
//!
//! A fixture whose reason no schema can express (a reference to another section, CIDRs
//! that overlap, a zone outside the region) says so in a `# schema: <why>` header line.

use std::path::{Path, PathBuf};

use crate::support::{expect_code, root, secinfra, stdout};

fn schema() -> serde_json::Value {
    let output = secinfra().arg("schema").output().expect("run");
    expect_code(&output, 0);
    serde_json::from_slice(&output.stdout).expect("the schema is JSON")
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&schema()).expect("the schema compiles")
}

/// The YAML as the JSON an editor's YAML language server checks.
fn as_json(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).expect("read");
    serde_saphyr::from_str::<serde_json::Value>(&text).map_err(|e| e.to_string())
}

fn errors(validator: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn fixtures() -> Vec<PathBuf> {
    let mut fixtures: Vec<_> = std::fs::read_dir(root().join("tests/fixtures/bad"))
        .expect("fixtures dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    fixtures.sort();
    fixtures
}

fn not_expressible(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).expect("read");
    text.lines()
        .find_map(|l| l.strip_prefix("# schema: "))
        .map(str::to_string)
}

#[test]
fn the_schema_rejects_every_bad_blueprint_it_can_express() {
    let validator = validator();
    let mut accepted = Vec::new();
    let mut expressible = 0;
    for path in fixtures() {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        if let Some(why) = not_expressible(&path) {
            assert!(why.len() > 10, "{name}: say why the schema cannot tell");
            continue;
        }
        expressible += 1;
        // A file that is not YAML (or not YAML a parser would take) is refused before
        // any schema runs; that agrees with `validate` too.
        let Ok(doc) = as_json(&path) else { continue };
        if errors(&validator, &doc).is_empty() {
            accepted.push(name);
        }
    }
    assert!(
        expressible >= 30,
        "fixtures the schema can judge went missing"
    );
    assert!(
        accepted.is_empty(),
        "`validate` rejects these, the schema accepts them: {accepted:#?}"
    );
}

#[test]
fn the_schema_accepts_the_sample_and_the_readme() {
    let validator = validator();
    let sample = root().join("blueprints/api-platform.yaml");
    let doc = as_json(&sample).expect("the sample is YAML");
    assert_eq!(errors(&validator, &doc), Vec::<String>::new(), "the sample");

    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let joined: String = readme
        .split("```yaml\n")
        .skip(1)
        .map(|rest| rest.split("```").next().expect("a closed block"))
        .collect::<Vec<_>>()
        .join("\n");
    let doc = serde_saphyr::from_str::<serde_json::Value>(&joined).expect("README YAML");
    assert_eq!(errors(&validator, &doc), Vec::<String>::new(), "the README");
}

/// Overlays are typed: a value `validate --env` would refuse is refused inside
/// `environments` too, while a partial overlay (a mapping merged key by key, `null` to
/// drop a key) is accepted.
#[test]
fn the_schema_types_environment_overlays() {
    let validator = validator();
    let good: serde_json::Value = serde_saphyr::from_str(
        "version: 1\nstack: demo\nenvironments:\n  dev:\n    region: eu-west-1\n    network:\n      nat: single\n      flow_logs: null\n    kms: { keys: { data: { rotation_days: 180 } } }\n",
    )
    .expect("yaml");
    assert_eq!(errors(&validator, &good), Vec::<String>::new());
    for bad in [
        "environments: { dev: { network: { nat: perr_az } } }",
        "environments: { dev: { kms: { keys: { data: { rotation_days: 30 } } } } }",
        "environments: { dev: { unknown_section: {} } }",
        "environments: { dev: { environments: {} } }",
    ] {
        let doc: serde_json::Value =
            serde_saphyr::from_str(&format!("version: 1\nstack: demo\n{bad}\n")).expect("yaml");
        assert!(!errors(&validator, &doc).is_empty(), "accepted: {bad}");
    }
}

#[test]
fn the_schema_names_itself() {
    let schema = schema();
    let id = schema["$id"].as_str().expect("$id");
    assert_eq!(
        id, "urn:secinfra:blueprint:1",
        "the format's version is in its id"
    );
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    assert!(
        readme.contains("# yaml-language-server: $schema="),
        "the README shows editors where the schema is"
    );
    let output = secinfra().arg("schema").output().expect("run");
    let printed = stdout(&output);
    assert!(printed.ends_with("}\n"));
    // The copy in the repository, which the sample blueprint's editor line points at.
    let shipped = std::fs::read_to_string(root().join("docs/blueprint.schema.json"))
        .expect("docs/blueprint.schema.json");
    assert!(
        shipped == printed,
        "docs/blueprint.schema.json is stale: run `secinfra schema > docs/blueprint.schema.json`"
    );
    let sample =
        std::fs::read_to_string(root().join("blueprints/api-platform.yaml")).expect("sample");
    assert!(sample.contains("# yaml-language-server: $schema=../docs/blueprint.schema.json"));
}

const NETWORK: &str = "version: 1
stack: demo
network: { vpc: { cidr: 10.0.0.0/16 }, subnets: { a: { cidr: 10.0.1.0/24, az: a, tier: isolated } } }
";

const DB_BASE: &str = "version: 1
stack: demo
network:
  vpc: { cidr: 10.0.0.0/16 }
  subnets:
    data-a: { cidr: 10.0.1.0/24, az: a, tier: isolated }
    data-b: { cidr: 10.0.2.0/24, az: b, tier: isolated }
security_groups: { rds: {} }
kms: { keys: { rds: {} } }
";

fn database(fields: &str) -> String {
    format!(
        "{DB_BASE}databases:\n  main: {{ engine: postgres, instance_class: db.t4g.medium, storage_gb: 20, \
         subnets: tier.isolated, security_groups: [security_group.rds], kms_key: kms_key.rds, \
         master_password_kms_key: kms_key.rds, backup_retention_days: 7, {fields} }}\n"
    )
}

fn cache(fields: &str) -> String {
    format!(
        "{DB_BASE}caches:\n  main: {{ engine: redis, node_type: cache.t4g.small, subnets: tier.isolated, \
         security_groups: [security_group.rds], at_rest_kms_key: kms_key.rds, {fields} }}\n"
    )
}

/// Both judges on the same text: `validate`'s exit code and the schema's verdict.
fn judged(text: &str) -> (bool, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("b.yaml");
    std::fs::write(&path, text).expect("write");
    let output = secinfra().arg("validate").arg(&path).output().expect("run");
    let valid = output.status.code() == Some(0);
    let doc: serde_json::Value = serde_saphyr::from_str(text).expect("yaml");
    (valid, errors(&validator(), &doc))
}

/// Values a newcomer writes, one at a time: where `validate` refuses, the schema refuses;
/// where it accepts (numbers for strings, versions unquoted), the schema accepts.
#[test]
fn the_schema_and_validate_agree_value_by_value() {
    let sg = |rule: &str| format!("{NETWORK}security_groups:\n  web: {{ ingress: [ {rule} ] }}\n");
    let rejected = [
        sg("{ port: \"80-\", from: 10.0.0.0/8 }"),
        sg("{ port: 443, protocol: tpc, from: 10.0.0.0/8 }"),
        "version: 1\nstack: WebShop\n".to_string(),
        "version: 2\nstack: demo\n".to_string(),
        format!("{NETWORK}security_groups: {{ Web: {{}} }}\n"),
        "version: 1\nstack: demo\nkms: { keys: { data: { rotation_days: 0 } } }\n".to_string(),
        "version: 1\nstack: demo\nkms: { keys: { data: { deletion_window_days: 3 } } }\n".to_string(),
        "version: 1\nstack: demo\nsecrets: { db: { rotation: { every_days: 0, lambda: rotate } } }\n".to_string(),
        "version: 1\nstack: demo\nsecrets: { db: { rotation: { every_days: 30, schedule: rate(30 days), lambda: rotate } } }\n".to_string(),
        "version: 1\nstack: demo\nwaf: { api: { rules: [ { managed: AWSManagedRulesSQLiRuleSet, geo_block: [KP] } ] } }\n".to_string(),
        "version: 1\nstack: demo\nwaf: { api: { rules: [ { geo_block: [usa] } ] } }\n".to_string(),
        "version: 1\nstack: demo\nwaf: { api: { default_action: deny, rules: [] } }\n".to_string(),
        database("engine_version: \"11\""),
        database("engine_version: 18"),
        database("engine_version: \"16\", storage_type: gp4"),
        cache("engine_version: \"5.0\""),
        cache("engine_version: \"7.1\", nodes: 7"),
    ];
    for text in &rejected {
        let (valid, errors) = judged(text);
        assert!(!valid, "validate accepts:\n{text}");
        assert!(
            !errors.is_empty(),
            "the schema accepts what validate refuses:\n{text}"
        );
    }
    let accepted = [
        sg("{ port: \"443\", from: 10.0.0.0/8 }"),
        sg("{ port: \"8000-8100\", from: 10.0.0.0/8 }"),
        sg("{ protocol: all, from: 10.0.0.0/8 }"),
        "version: 1\nstack: demo\ntags: { CostCenter: 1234, Billable: true }\n".to_string(),
        database("engine_version: 16, parameters: { log_connections: 1, rds.force_ssl: 1 }"),
        database("engine_version: \"16.4\""),
        cache("engine_version: 7.1"),
        cache("engine_version: \"7.1.0\""),
    ];
    for text in &accepted {
        let (valid, errors) = judged(text);
        assert!(valid, "validate refuses:\n{text}");
        assert_eq!(
            errors,
            Vec::<String>::new(),
            "the schema refuses what validate accepts:\n{text}"
        );
    }
}
