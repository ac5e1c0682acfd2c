//! Every way a chart or its values can be wrong gives a clear error that names the file,
//! the line and the key, with exit status 1.

mod common;

use common::{chart, stoke_in, write_files};

#[test]
fn a_bad_chart_yaml_names_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    write_files(
        tmp.path(),
        &[(
            "c/Chart.yaml",
            "apiVersion: v2\nname: c\nversion: not-semver\n",
        )],
    );
    let run = stoke_in(tmp.path(), &["template", "r", "c"]).expect(1);
    assert!(
        run.stderr
            .starts_with("error: invalid chart metadata in c/Chart.yaml"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("version `not-semver` is not a valid SemVer 2 version"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_directory_without_chart_yaml_is_not_a_chart() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    let run = stoke_in(tmp.path(), &["template", "r", "empty"]).expect(1);
    assert!(
        run.stderr
            .contains("`empty` is not a chart: it has no Chart.yaml"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_yaml_in_a_values_file_names_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    chart(tmp.path(), "c", &[("values.yaml", "a: 1\n")]);
    write_files(tmp.path(), &[("bad.yaml", "a: 1\nb:\n  - x\n  y: 2\n")]);
    let run = stoke_in(tmp.path(), &["values", "c", "-f", "bad.yaml"]).expect(1);
    assert!(run.stderr.contains("error: bad.yaml:4:"), "{}", run.stderr);
    assert!(run.stderr.contains("invalid YAML"), "{}", run.stderr);
}

#[test]
fn bad_yaml_in_the_charts_own_values_is_reported_too() {
    let tmp = tempfile::tempdir().unwrap();
    chart(tmp.path(), "c", &[("values.yaml", "a: [1,\n")]);
    let run = stoke_in(tmp.path(), &["values", "c"]).expect(1);
    assert!(run.stderr.contains("c/values.yaml:"), "{}", run.stderr);
}

#[test]
fn a_schema_violation_names_the_path_the_expectation_and_where_it_was_set() {
    let tmp = tempfile::tempdir().unwrap();
    chart(
        tmp.path(),
        "c",
        &[
            ("values.yaml", "gateway:\n  replicas: 1\n"),
            (
                "values.schema.json",
                r#"{"type":"object","properties":{"gateway":{"type":"object","properties":{"replicas":{"type":"integer","minimum":1}}}}}"#,
            ),
        ],
    );
    write_files(
        tmp.path(),
        &[("prod.yaml", "# production\ngateway:\n  replicas: many\n")],
    );
    let run = stoke_in(tmp.path(), &["template", "r", "c", "-f", "prod.yaml"]).expect(1);
    assert!(run.stderr.contains("`gateway.replicas`"), "{}", run.stderr);
    assert!(
        run.stderr.contains("is not of type \"integer\""),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("set in prod.yaml:3"), "{}", run.stderr);
}

#[test]
fn an_undefined_value_names_the_template_line_column_and_the_fields_that_exist() {
    let tmp = tempfile::tempdir().unwrap();
    chart(
        tmp.path(),
        "c",
        &[
            ("values.yaml", "image:\n  tag: x\n"),
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  t: {{ values.image.tga }}\n",
            ),
        ],
    );
    let run = stoke_in(tmp.path(), &["template", "r", "c"]).expect(1);
    assert!(
        run.stderr.contains("cannot render c/templates/cm.yaml"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("c/templates/cm.yaml:6:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("`tga` is not defined"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Available fields: tag"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_template_syntax_error_names_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    chart(
        tmp.path(),
        "c",
        &[(
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\n{% if values %}\nmetadata: {}\n",
        )],
    );
    let run = stoke_in(tmp.path(), &["template", "r", "c"]).expect(1);
    assert!(
        run.stderr.contains("c/templates/cm.yaml:"),
        "{}",
        run.stderr
    );
}

#[test]
fn rendered_output_that_is_not_yaml_names_the_template_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    chart(
        tmp.path(),
        "c",
        &[(
            "templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n data: [\n",
        )],
    );
    let run = stoke_in(tmp.path(), &["template", "r", "c"]).expect(1);
    assert!(
        run.stderr
            .contains("c/templates/cm.yaml: the rendered output is not valid YAML at line"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_document_that_is_not_a_kubernetes_object_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    chart(
        tmp.path(),
        "c",
        &[(
            "templates/cm.yaml",
            "kind: ConfigMap\nmetadata:\n  name: c\n",
        )],
    );
    let run = stoke_in(tmp.path(), &["template", "r", "c"]).expect(1);
    assert!(run.stderr.contains("lacks apiVersion"), "{}", run.stderr);
}

#[test]
fn an_unknown_values_key_warns_with_a_suggestion_and_fails_under_strict() {
    let tmp = tempfile::tempdir().unwrap();
    chart(
        tmp.path(),
        "c",
        &[
            ("values.yaml", "replicaCount: 1\npodAnnotations: {}\n"),
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
            ),
        ],
    );
    write_files(
        tmp.path(),
        &[(
            "mine.yaml",
            "podAnnotations:\n  free: form\nreplicaCont: 3\n",
        )],
    );
    let warn = stoke_in(tmp.path(), &["template", "r", "c", "-f", "mine.yaml"]).expect(0);
    assert!(
        warn.stderr.contains("warning: mine.yaml:3: key `replicaCont` is not defined by the chart (did you mean `replicaCount`?)"),
        "{}",
        warn.stderr
    );
    assert!(
        !warn.stderr.contains("free"),
        "keys under an empty default map are open"
    );
    let strict = stoke_in(
        tmp.path(),
        &["template", "r", "c", "-f", "mine.yaml", "--strict"],
    )
    .expect(1);
    assert!(strict.stderr.contains("replicaCont"), "{}", strict.stderr);
    let lint = stoke_in(tmp.path(), &["lint", "c", "-f", "mine.yaml", "--strict"]).expect(1);
    assert!(
        lint.stdout.contains("[WARNING] mine.yaml:3"),
        "{}",
        lint.stdout
    );
}

#[test]
fn required_and_fail_stop_the_render_with_the_chart_authors_message() {
    let tmp = tempfile::tempdir().unwrap();
    chart(
        tmp.path(),
        "c",
        &[
            ("values.yaml", "host: \"\"\nmode: x\n"),
            (
                "templates/cm.yaml",
                "{% if values.mode == \"bad\" %}{{ fail(message=\"mode bad is not supported; use good\") }}{% endif %}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ values.host | required(message=\"host is required: set --set host=...\") }}\n",
            ),
        ],
    );
    let run = stoke_in(tmp.path(), &["template", "r", "c"]).expect(1);
    assert!(
        run.stderr.contains("host is required: set --set host=..."),
        "{}",
        run.stderr
    );
    write_files(tmp.path(), &[("bad.yaml", "host: h\nmode: bad\n")]);
    let run = stoke_in(tmp.path(), &["template", "r", "c", "-f", "bad.yaml"]).expect(1);
    assert!(
        run.stderr.contains("mode bad is not supported; use good"),
        "{}",
        run.stderr
    );
}

#[test]
fn lint_reports_bad_names_and_duplicates_and_fails() {
    let tmp = tempfile::tempdir().unwrap();
    chart(
        tmp.path(),
        "c",
        &[
            (
                "templates/a.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: dup\n",
            ),
            (
                "templates/b.yaml",
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: dup\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  selector: {}\n  template:\n    spec:\n      containers: [{name: x}]\n",
            ),
        ],
    );
    let run = stoke_in(tmp.path(), &["lint", "c"]).expect(1);
    assert!(
        run.stdout
            .contains("ConfigMap name `Bad_Name` is not an RFC 1123 subdomain"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Secret `dup` is rendered twice"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("container 0 has no image"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("1 chart(s) failed"));
    let json = stoke_in(tmp.path(), &["lint", "c", "-o", "json"]).expect(1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(
        v[0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["severity"] == "error")
    );
}

#[test]
fn errors_are_plain_when_piped_or_no_color_is_set() {
    let tmp = tempfile::tempdir().unwrap();
    let run = stoke_in(tmp.path(), &["template", "r", "missing"]).expect(1);
    assert!(
        run.stderr.starts_with("error: cannot read chart `missing`"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains('\u{1b}'),
        "no escape codes when not on a terminal"
    );
}

#[test]
fn lint_renders_with_the_defaults_as_well_as_with_the_given_values() {
    let tmp = tempfile::tempdir().unwrap();
    chart(
        tmp.path(),
        "c",
        &[
            ("values.yaml", "name: \"\"\n"),
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ values.name | required(message=\"name is required\") }}\n",
            ),
        ],
    );
    write_files(tmp.path(), &[("ok.yaml", "name: fine\n")]);
    let run = stoke_in(tmp.path(), &["lint", "c", "-f", "ok.yaml"]).expect(1);
    assert!(
        run.stdout.contains("with the chart's default values"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("name is required"), "{}", run.stdout);
}

#[test]
fn lint_warns_about_bare_yes_and_no_that_helm_reads_as_booleans() {
    let tmp = tempfile::tempdir().unwrap();
    chart(
        tmp.path(),
        "c",
        &[
            ("values.yaml", "flag: yes\nquoted: \"no\"\n"),
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
            ),
        ],
    );
    let run = stoke_in(tmp.path(), &["lint", "c"]).expect(0);
    assert!(
        run.stdout.contains(
            "[WARNING] values.yaml:1: `flag: yes` is a string to stoke but a boolean to Helm"
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("quoted"), "{}", run.stdout);
    stoke_in(tmp.path(), &["lint", "c", "--strict"]).expect(1);
}

#[test]
fn unknown_keys_in_a_subchart_section_are_judged_by_the_subcharts_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let parent = chart(tmp.path(), "parent", &[("values.yaml", "own: 1\n")]);
    chart(
        &parent.join("charts"),
        "gw",
        &[
            ("values.yaml", "replicas: 1\n"),
            (
                "values.schema.json",
                r#"{"type":"object","properties":{"replicas":{"type":"integer"},"hostOverride":{"type":"string"}},"additionalProperties":false}"#,
            ),
            (
                "templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
            ),
        ],
    );
    write_files(
        tmp.path(),
        &[(
            "mine.yaml",
            "gw:\n  hostOverride: a.example.com\n  global:\n    anything: 1\n  replicsa: 2\nown: 2\n",
        )],
    );
    let run = stoke_in(tmp.path(), &["template", "r", "parent", "-f", "mine.yaml"]).expect(1);
    // The subchart's schema refuses the typo, and the error names the likely culprit.
    assert!(
        run.stderr.contains("('replicsa' was unexpected)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("mine.yaml:5: key `gw.replicsa` is not defined by the chart (did you mean `gw.replicas`?)"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("hostOverride` is not defined"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("gw.global"), "{}", run.stderr);
}

#[test]
fn an_unreadable_limit_variable_is_warned_about_once_and_its_default_kept() {
    let run: common::Run = common::stoke_command(&common::repo())
        .args(["template", "gw", "charts/ignition"])
        .env("STOKE_MAX_TEMPLATE_DEPTH", "lots")
        .output()
        .expect("the stoke binary runs")
        .into();
    let run = run.expect(0);
    let warning =
        "warning: STOKE_MAX_TEMPLATE_DEPTH=`lots` is not a whole number; using the default";
    common::assert_contains(&run.stderr, warning);
    assert_eq!(run.stderr.matches(warning).count(), 1, "{}", run.stderr);
    common::assert_contains(&run.stdout, "kind: StatefulSet");
}
