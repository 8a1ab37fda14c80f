//! The binary against blueprint files, without AWS: every bad blueprint gets exit 1 and
//! an error naming file:line:column; good ones validate; usage errors never exit 2.

use std::path::Path;

use crate::support::{expect_code, root, secinfra, stderr, stdout, write};

/// A fixture's expectations, from its header comments:
/// `# args: ...`, `# expect: LINE:COL message` (or `- message` for no position), `# help: ...`.
struct Expectation {
    args: Vec<String>,
    location: Option<String>,
    message: String,
    help: Option<String>,
}

fn expectation(path: &Path) -> Expectation {
    let text = std::fs::read_to_string(path).expect("read fixture");
    let header = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("# {key}: ")))
            .map(str::to_string)
    };
    let expect =
        header("expect").unwrap_or_else(|| panic!("{} has no `# expect:` line", path.display()));
    let (location, message) = expect
        .split_once(' ')
        .expect("`# expect: LOCATION message`");
    Expectation {
        args: header("args")
            .map(|a| a.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default(),
        location: (location != "-").then(|| location.to_string()),
        message: message.to_string(),
        help: header("help"),
    }
}

#[test]
fn every_bad_blueprint_fails_with_its_position() {
    let dir = root().join("tests/fixtures/bad");
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 20, "fixture corpus went missing");
    for path in fixtures {
        let expected = expectation(&path);
        let shown = path.strip_prefix(root()).expect("under root");
        let output = secinfra()
            .current_dir(root())
            .arg("validate")
            .arg(shown)
            .args(&expected.args)
            .output()
            .expect("run secinfra");
        let err = stderr(&output);
        expect_code(&output, 1);
        if let Some(location) = &expected.location {
            let needle = format!("{}:{location}", shown.display());
            assert!(
                err.contains(&needle),
                "{}: expected `{needle}` in:\n{err}",
                shown.display()
            );
        }
        assert!(
            err.contains(&expected.message),
            "{}: expected `{}` in:\n{err}",
            shown.display(),
            expected.message
        );
        if let Some(help) = &expected.help {
            assert!(
                err.contains(help),
                "{}: expected help `{help}` in:\n{err}",
                shown.display()
            );
        }
        assert!(
            stdout(&output).is_empty(),
            "{}: nothing belongs on stdout",
            shown.display()
        );
    }
}

#[test]
fn errors_show_the_source_line_and_a_caret() {
    let output = secinfra()
        .current_dir(root())
        .args(["validate", "tests/fixtures/bad/overlapping-subnets.yaml"])
        .output()
        .expect("run");
    expect_code(&output, 1);
    let err = stderr(&output);
    assert!(
        err.contains("data-b: { cidr: 10.0.1.128/25, az: b, tier: isolated }"),
        "{err}"
    );
    assert!(err.contains("^^^^^^^^^^^^^ overlaps 10.0.1.0/24"), "{err}");
    assert!(err.contains("`data-a` is declared here"), "{err}");
    assert!(err.contains("field: network.subnets.data-b.cidr"), "{err}");
}

#[test]
fn all_errors_are_reported_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "many.yaml",
        "version: 1\nstack: demo\nnetwork:\n  vpc: { cidr: 10.0.0.0/16 }\n  subnets:\n    a: { cidr: 10.0.1.0/24, az: a, tier: isolated }\n    b: { cidr: 10.0.1.0/24, az: b, tier: isolated }\nsecurity_groups:\n  x: { ingress: [ { port: 0, from: 0.0.0.0/0 }, { port: 22, from: security_group.y } ] }\n",
    );
    let output = secinfra().arg("validate").arg(&path).output().expect("run");
    expect_code(&output, 1);
    let err = stderr(&output);
    assert!(err.contains("blueprint has 3 errors"), "{err}");
}

#[test]
fn non_utf8_is_refused_with_a_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("latin1.yaml");
    std::fs::write(&path, b"version: 1\nstack: caf\xe9\n").expect("write");
    let output = secinfra().arg("validate").arg(&path).output().expect("run");
    expect_code(&output, 1);
    let err = stderr(&output);
    assert!(err.contains("is not valid UTF-8"), "{err}");
    assert!(err.contains("latin1.yaml:2:11"), "{err}");
}

#[test]
fn oversized_and_deeply_nested_files_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = write(
        dir.path(),
        "big.yaml",
        &format!(
            "version: 1\nstack: demo\n# {}\n",
            "x".repeat(2 * 1024 * 1024)
        ),
    );
    let output = secinfra().arg("validate").arg(&big).output().expect("run");
    expect_code(&output, 1);
    assert!(
        stderr(&output).contains("blueprints are limited to 1048576 bytes"),
        "{}",
        stderr(&output)
    );

    let deep = write(
        dir.path(),
        "deep.yaml",
        &format!(
            "version: 1\nstack: demo\nnetwork: {}{}\n",
            "[".repeat(200),
            "]".repeat(200)
        ),
    );
    let output = secinfra().arg("validate").arg(&deep).output().expect("run");
    expect_code(&output, 1);
    assert!(
        stderr(&output).contains("blueprint refused"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn missing_file_is_an_error_not_a_panic() {
    let output = secinfra()
        .args(["validate", "no/such/blueprint.yaml"])
        .output()
        .expect("run");
    expect_code(&output, 1);
    assert!(
        stderr(&output).contains("cannot read blueprint no/such/blueprint.yaml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_seed_blueprint_and_its_environments_validate() {
    let output = secinfra()
        .current_dir(root())
        .args(["validate", "blueprints/api-platform.yaml"])
        .output()
        .expect("run");
    expect_code(&output, 0);
    let out = stdout(&output);
    assert!(
        out.contains("blueprints/api-platform.yaml: valid, stack api-platform, 66 resources"),
        "{out}"
    );
    assert!(
        out.contains("(env dev): valid, stack api-platform-dev, 63 resources"),
        "{out}"
    );
    // Every environment meets the security rules too.
    assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));
    // An empty SECINFRA_ENV (a CI matrix entry without one) is no environment.
    let unset = secinfra()
        .current_dir(root())
        .env("SECINFRA_ENV", "")
        .args(["validate", "blueprints/api-platform.yaml"])
        .output()
        .expect("run");
    expect_code(&unset, 0);
    assert_eq!(stdout(&unset), out);
}

#[test]
fn usage_errors_exit_1_not_2() {
    let output = secinfra().args(["plan"]).output().expect("run");
    expect_code(&output, 1);
    let output = secinfra().args(["frobnicate"]).output().expect("run");
    expect_code(&output, 1);
    let output = secinfra().args(["--help"]).output().expect("run");
    expect_code(&output, 0);
    assert!(stdout(&output).contains("drift"));
}

#[test]
fn schema_describes_the_blueprint() {
    let output = secinfra().arg("schema").output().expect("run");
    expect_code(&output, 0);
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON schema");
    let properties = &schema["properties"];
    for key in [
        "version",
        "stack",
        "region",
        "tags",
        "network",
        "security_groups",
        "environments",
    ] {
        assert!(
            properties.get(key).is_some(),
            "schema lacks `{key}`: {schema}"
        );
    }
    assert_eq!(schema["additionalProperties"], serde_json::json!(false));
}

#[test]
fn the_readmes_seed_graph_is_what_graph_prints() {
    let output = secinfra()
        .current_dir(root())
        .args([
            "graph",
            "blueprints/api-platform.yaml",
            "--format",
            "mermaid",
        ])
        .output()
        .expect("run");
    expect_code(&output, 0);
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    assert!(
        readme.contains(&format!("```mermaid\n{}```", stdout(&output))),
        "README's seed graph is stale: paste `secinfra graph blueprints/api-platform.yaml --format mermaid` into it"
    );
}

#[test]
fn graph_shows_dependencies_and_links() {
    let output = secinfra()
        .current_dir(root())
        .args(["graph", "blueprints/api-platform.yaml"])
        .output()
        .expect("run");
    expect_code(&output, 0);
    let dot = stdout(&output);
    assert!(dot.starts_with("digraph \"api-platform\""), "{dot}");
    assert!(dot.contains("\"subnet.app-az1\" -> \"vpc.main\";"), "{dot}");
    assert!(
        dot.contains("\"nat_gateway.public-az1\" -> \"internet_gateway.main\";"),
        "{dot}"
    );
    assert!(
        dot.contains("\"security_group.ecs\" -> \"security_group.alb\" [style=dashed];"),
        "{dot}"
    );

    let output = secinfra()
        .current_dir(root())
        .args([
            "graph",
            "blueprints/api-platform.yaml",
            "--format",
            "mermaid",
        ])
        .output()
        .expect("run");
    expect_code(&output, 0);
    assert!(stdout(&output).contains("security_group_ecs -.-> security_group_alb"));
}

/// The README's blueprint examples, section by section, are one valid blueprint together:
/// every block parses, and every reference between them resolves.
#[test]
fn the_readmes_examples_together_are_a_valid_blueprint() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let blocks: Vec<&str> = readme
        .split("```yaml\n")
        .skip(1)
        .map(|rest| rest.split("```").next().expect("a closed block"))
        .collect();
    assert!(blocks.len() >= 5, "the README's yaml examples went missing");
    for section in ["network:", "kms:", "waf:", "databases:", "monitoring:"] {
        assert!(
            blocks.iter().any(|b| b.contains(section)),
            "no README example shows `{section}`"
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("readme.yaml");
    std::fs::write(&path, blocks.join("\n")).expect("write");
    let output = secinfra().arg("validate").arg(&path).output().expect("run");
    expect_code(&output, 0);
    assert!(
        stdout(&output).contains("valid, stack api-platform"),
        "{}",
        stdout(&output)
    );
}

/// `--color always` colours output that is not a terminal (CI logs that render ANSI);
/// `never`, `--no-color` and NO_COLOR (for `auto`) do not.
#[test]
fn colour_follows_the_color_flag() {
    let bad = "tests/fixtures/bad/alert-topic-bad-name.yaml";
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = secinfra();
        cmd.current_dir(root())
            .env_remove("NO_COLOR")
            .env_remove("SECINFRA_COLOR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let output = cmd
            .args(args)
            .arg("validate")
            .arg(bad)
            .output()
            .expect("run");
        expect_code(&output, 1);
        stderr(&output).contains("\u{1b}[")
    };
    assert!(run(&["--color", "always"], &[]));
    assert!(run(&[], &[("SECINFRA_COLOR", "always")]));
    assert!(!run(&[], &[]), "auto: stderr is not a terminal here");
    assert!(!run(&["--color", "never"], &[]));
    assert!(!run(&["--color", "always", "--no-color"], &[]));
}

/// Every flag a CI pipeline repeats can come from a `SECINFRA_*` variable instead.
#[test]
fn flags_come_from_secinfra_variables_too() {
    let output = secinfra()
        .current_dir(root())
        .env("SECINFRA_ENV", "nope")
        .args(["validate", "blueprints/api-platform.yaml"])
        .output()
        .expect("run");
    expect_code(&output, 1);
    assert!(
        stderr(&output).contains("--env nope: no such environment"),
        "{}",
        stderr(&output)
    );
    let output = secinfra()
        .current_dir(root())
        .env("SECINFRA_WAIT_TIMEOUT", "1h30")
        .args(["validate", "blueprints/api-platform.yaml"])
        .output()
        .expect("run");
    expect_code(&output, 1);
    assert!(
        stderr(&output).contains("e.g. 90s, 20m, 1h30m"),
        "{}",
        stderr(&output)
    );
    let output = secinfra()
        .current_dir(root())
        .env("SECINFRA_WAIT_TIMEOUT", "1h30m")
        .args(["validate", "blueprints/api-platform.yaml"])
        .output()
        .expect("run");
    expect_code(&output, 0);
}

/// Terraform's one-dash long options get a "did you mean" with two dashes, not clap's
/// advice to write `-- -out`.
#[test]
fn terraform_habits_are_answered_with_the_two_dash_option() {
    for (args, wanted) in [
        (
            vec!["plan", "blueprint.yaml", "-out", "p.json"],
            "did you mean `--out`?",
        ),
        (
            vec!["apply", "p.json", "-auto-approve"],
            "did you mean `--auto-approve`?",
        ),
        (
            vec!["plan", "blueprint.yaml", "-json"],
            "did you mean `--json`?",
        ),
    ] {
        let output = secinfra().args(&args).output().expect("run");
        expect_code(&output, 1);
        assert!(
            stderr(&output).contains(wanted),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("-- -"), "{}", stderr(&output));
    }
}

/// A profile that is not in the shared files is named as missing, with the profiles that
/// are there, before any AWS call (not an instance-metadata failure minutes later).
#[test]
fn a_missing_profile_is_named_with_the_ones_there_are() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(
        dir.path(),
        "config",
        "[default]\nregion = us-east-1\n[profile dev]\nregion = eu-west-1\n",
    );
    let credentials = write(
        dir.path(),
        "credentials",
        "[ci]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    );
    let run = |profile: &str| {
        secinfra()
            .current_dir(root())
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            .args(["plan", "blueprints/api-platform.yaml", "--profile", profile])
            .args([
                "--endpoint-url",
                "http://127.0.0.1:9",
                "--max-attempts",
                "1",
            ])
            .output()
            .expect("run")
    };
    let missing = run("nope");
    expect_code(&missing, 1);
    assert!(
        stderr(&missing).contains("profile `nope` is not in")
            && stderr(&missing).contains("(profiles there: ci, default, dev)"),
        "{}",
        stderr(&missing)
    );
    // A profile that is there gets as far as the endpoint (refused here).
    let known = run("ci");
    expect_code(&known, 1);
    assert!(!stderr(&known).contains("is not in"), "{}", stderr(&known));
    assert!(
        stderr(&known).contains("sts:GetCallerIdentity"),
        "{}",
        stderr(&known)
    );
}

/// Completions and manual pages come from the command line itself; each command's help
/// lists only what applies to it.
#[test]
fn completions_man_pages_and_per_command_help() {
    for (shell, marker) in [
        ("bash", "_secinfra()"),
        ("zsh", "#compdef secinfra"),
        ("fish", "complete -c secinfra"),
    ] {
        let output = secinfra()
            .args(["completions", shell])
            .output()
            .expect("run");
        expect_code(&output, 0);
        let script = stdout(&output);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(
            script.contains("drift") && script.contains("lock-bucket"),
            "{shell}"
        );
    }
    let output = secinfra().arg("man").output().expect("run");
    expect_code(&output, 0);
    assert!(stdout(&output).contains(".TH secinfra 1"));
    let output = secinfra().args(["man", "apply"]).output().expect("run");
    expect_code(&output, 0);
    let page = stdout(&output);
    assert!(page.contains(".TH secinfra-apply 1"), "{page}");
    assert!(page.contains("auto\\-approve"), "{page}");
    let output = secinfra().args(["man", "aply"]).output().expect("run");
    expect_code(&output, 1);
    assert!(stderr(&output).contains("pages exist for: plan, apply"));

    let help = |command: &str| {
        let output = secinfra().args([command, "--help"]).output().expect("run");
        expect_code(&output, 0);
        stdout(&output)
    };
    for offline in ["validate", "schema", "graph", "show"] {
        let text = help(offline);
        for aws in [
            "--profile",
            "--endpoint-url",
            "--max-attempts",
            "--read-timeout",
        ] {
            assert!(
                !text.contains(aws),
                "`{offline} --help` lists {aws}:\n{text}"
            );
        }
    }
    assert!(help("plan").contains("--endpoint-url"));
    // Still accepted where hidden, and still global for the AWS CLI habit.
    let output = secinfra()
        .current_dir(root())
        .args([
            "--max-attempts",
            "3",
            "validate",
            "blueprints/api-platform.yaml",
            "--profile",
            "x",
        ])
        .output()
        .expect("run");
    expect_code(&output, 0);
}

/// Structural mistakes come all at once: every misspelt key, every tab-indented line.
#[test]
fn every_structural_error_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "b.yaml",
        "version: 1\nstack: demo\nnetwrok: {}\nkms: { keys: { data: { rotaton_days: 90 } } }\n\
         environments: { dev: { secrets: { db: { descripton: x } } } }\n",
    );
    let output = secinfra().arg("validate").arg(&path).output().expect("run");
    expect_code(&output, 1);
    let err = stderr(&output);
    for (at, key) in [
        ("3:1", "netwrok"),
        ("4:24", "rotaton_days"),
        ("5:41", "descripton"),
    ] {
        assert!(err.contains(&format!("b.yaml:{at}")), "{key}: {err}");
        assert!(err.contains(&format!("unknown field `{key}`")), "{err}");
    }
    assert!(err.contains("blueprint has 3 errors"), "{err}");

    let output = secinfra()
        .current_dir(root())
        .args(["validate", "tests/fixtures/bad/tab-indentation.yaml"])
        .output()
        .expect("run");
    let err = stderr(&output);
    assert!(
        err.contains("tab-indentation.yaml:7:1") && err.contains("tab-indentation.yaml:8:1"),
        "{err}"
    );
    assert!(err.contains("blueprint has 2 errors"), "{err}");
}

/// An endpoint without a scheme is named before any call, not dumped as an SDK request.
#[test]
fn an_endpoint_without_a_scheme_is_named() {
    let output = secinfra()
        .current_dir(root())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .args([
            "plan",
            "blueprints/api-platform.yaml",
            "--region",
            "us-east-1",
        ])
        .args(["--endpoint-url", "localhost:5631"])
        .output()
        .expect("run");
    expect_code(&output, 1);
    let err = stderr(&output);
    assert!(
        err.contains("`localhost:5631` has no scheme; write http://localhost:5631"),
        "{err}"
    );
    assert!(!err.contains("SdkBody"), "{err}");
}

/// `fmt` lays a blueprint out canonically, keeping comments and key order: `--check`
/// changes nothing and fails on an unformatted file (CI), `--diff` shows the change, plain
/// `fmt` writes it and names the file; a file that is not YAML is refused with its position.
#[test]
fn fmt_formats_checks_and_keeps_comments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let messy = "version: 1   # format\nstack:    demo\nnetwork:\n    vpc: {cidr: 10.0.0.0/16}\n    subnets:\n        # the data tier\n        a: {  cidr: 10.0.1.0/24, az: a, tier: isolated }\n";
    let path = write(dir.path(), "b.yaml", messy);
    let check = secinfra()
        .args(["fmt", "--check"])
        .arg(&path)
        .output()
        .expect("run");
    expect_code(&check, 1);
    assert!(
        stderr(&check).contains("b.yaml is not formatted"),
        "{}",
        stderr(&check)
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        messy,
        "--check writes nothing"
    );

    let diff = secinfra()
        .args(["fmt", "--check", "--diff"])
        .arg(&path)
        .output()
        .expect("run");
    assert!(
        stdout(&diff).contains("-stack:    demo\n") && stdout(&diff).contains("+stack: demo\n"),
        "{}",
        stdout(&diff)
    );

    let fmt = secinfra().arg("fmt").arg(&path).output().expect("run");
    expect_code(&fmt, 0);
    assert!(stdout(&fmt).contains("b.yaml"));
    let formatted = std::fs::read_to_string(&path).expect("read");
    assert!(
        formatted.contains("# the data tier") && formatted.contains("# format"),
        "{formatted}"
    );
    assert!(
        formatted.contains("  vpc: { cidr: 10.0.0.0/16 }\n"),
        "{formatted}"
    );
    let again = secinfra()
        .args(["fmt", "--check"])
        .arg(&path)
        .output()
        .expect("run");
    expect_code(&again, 0);
    let valid = secinfra().arg("validate").arg(&path).output().expect("run");
    expect_code(&valid, 0);

    let bad = write(dir.path(), "bad.yaml", "version: 1\nstack: [demo\n");
    let refused = secinfra().arg("fmt").arg(&bad).output().expect("run");
    expect_code(&refused, 1);
    assert!(
        stderr(&refused).contains("bad.yaml:"),
        "{}",
        stderr(&refused)
    );

    // The sample is formatted.
    let sample = secinfra()
        .current_dir(root())
        .args(["fmt", "--check", "blueprints/api-platform.yaml"])
        .output()
        .expect("run");
    expect_code(&sample, 0);
}
